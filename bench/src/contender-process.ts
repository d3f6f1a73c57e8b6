import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { mnistDataDir } from '@araboza/datasets';
import type { ContenderId, WorkerReply, WorkerRequest } from './protocol.js';

/**
 * glibc malloc returns PyTorch's activation buffers to the OS every batch
 * here, which halves its speed; the fair peer is PyTorch at its best
 * (see ../shared/bench/README.md), so its worker runs with these.
 */
export const PYTORCH_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '1073741824', MALLOC_TRIM_THRESHOLD_: '1073741824' };

/** Where the PyTorch worker script lives (shipped beside dist/, in py/). */
export const TORCH_WORKER = fileURLToPath(new URL('../py/torch_worker.py', import.meta.url));

/** Where the compiled araboza worker lives (the same path from src/ under vitest and from dist/). */
const NODE_WORKER = fileURLToPath(new URL('../dist/worker.js', import.meta.url));

/** Why PyTorch cannot be measured with `python`, or `null` when `import torch` works. */
export function torchUnavailableReason(python: string): string | null {
  const probe = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (probe.error) return `${python} cannot be run (${probe.error.message})`;
  if (probe.status !== 0) {
    const last = (probe.stderr || '').trim().split('\n').pop() ?? '';
    return `${python} cannot import torch (${last || `exit ${probe.status}`})`;
  }
  return null;
}

/** A reply line, or `null` for any other line. */
function parseReply(line: string): WorkerReply | null {
  if (!line.startsWith('{')) return null;
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean' ? (value as WorkerReply) : null;
  } catch {
    return null;
  }
}

/** A running contender worker answering one request at a time. */
export class ContenderProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly replies: AsyncIterator<string>;
  private readonly stderrTail: string[] = [];
  private exited: string | null = null;

  private constructor(
    readonly id: ContenderId,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderrTail.push(chunk);
      if (this.stderrTail.length > 40) this.stderrTail.shift();
    });
    this.child.on('exit', (code, signal) => {
      this.exited = signal ? `killed by ${signal}` : `exited with code ${code}`;
    });
    this.child.on('error', (error) => {
      this.exited = `could not start (${error.message})`;
    });
    this.replies = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts the worker of contender `id` (the PyTorch one with `python`). */
  static start(id: ContenderId, python: string): ContenderProcess {
    if (id === 'pytorch') {
      return new ContenderProcess(id, python, [TORCH_WORKER], {
        ...process.env,
        ...PYTORCH_MALLOC_ENV,
        MNIST_DIR: mnistDataDir(),
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
      });
    }
    return new ContenderProcess(id, process.execPath, [NODE_WORKER, id], process.env);
  }

  /** The worker's process id (for CPU accounting). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /**
   * Sends one request and waits for its reply.
   * @throws Error with the worker's last stderr lines when it fails or dies.
   */
  async request(req: WorkerRequest): Promise<Exclude<WorkerReply, { ok: false }>> {
    if (this.exited) throw new Error(`${this.id} worker ${this.exited}${this.stderrText()}`);
    this.child.stdin.write(`${JSON.stringify(req)}\n`);
    for (;;) {
      const next = await this.replies.next();
      if (next.done) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error(`${this.id} worker ${this.exited ?? 'closed its output'} during '${req.cmd}'${this.stderrText()}`);
      }
      const reply = parseReply(next.value);
      if (!reply) {
        // A library wrote to stdout behind the worker's back: keep it with the diagnostics, wait for the reply.
        this.stderrTail.push(`[stdout] ${next.value}\n`);
        continue;
      }
      if (!reply.ok) throw new Error(`${this.id} failed during '${req.cmd}': ${reply.error}`);
      return reply;
    }
  }

  /** Asks the worker to quit and waits for it (kills it after 10 s). */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      this.child.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
    } catch {
      // stdin already closed: the kill below ends it
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }

  private stderrText(): string {
    const text = this.stderrTail.join('').trim();
    return text ? `\n--- its stderr (last lines) ---\n${text.split('\n').slice(-15).join('\n')}` : '';
  }
}
