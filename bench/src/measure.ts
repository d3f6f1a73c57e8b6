import { ContenderProcess } from './contender-process.js';
import { cpuSnapshot, foreignCores } from './cpu.js';
import { contenderMeasures } from './models.js';
import type { ContenderId, Measure, ModelId, SetupReply, WorkerRequest } from './protocol.js';
import { median, rotate } from './stats.js';

/** Below this many cores used by other processes, the CPU counts as quiet (the PyTorch reference's threshold). */
export const QUIET_CORES = 0.15;

/** Above this many cores used by other processes, a block counts as disturbed (flagged in logs and the table). */
export const FOREIGN_FLAG_CORES = 0.1;

/** One timed block: a contender's turn in one round. */
export interface Block {
  round: number;
  /** Milliseconds per repetition. */
  ms: number[];
  /** Cores' worth of CPU other processes used during the block. */
  foreignCores: number;
  /** Loss the worker reported (training blocks). */
  loss?: number;
  /** Validation loss the worker reported (epochs with validation). */
  valLoss?: number;
  /** Images per inference pass, when not the whole test set. */
  images?: number;
}

/** A contender's state on one model after setup. */
export interface ContenderRecord {
  id: ContenderId;
  /** The model it measures. */
  model: ModelId;
  status: 'ready' | 'skipped' | 'failed';
  /** Why it was skipped or what failed. */
  reason?: string;
  setup?: SetupReply;
  /** Blocks per measure, in round order. */
  blocks: Partial<Record<Measure, Block[]>>;
  /** The first error per measure (the contender stops after it). */
  errors: Partial<Record<Measure, string>>;
}

/** Progress lines for people. */
export type Log = (line: string) => void;

/**
 * Runs the contenders' workers on one model and times them turn by turn:
 * in each round every contender takes one block of a measure, the starting
 * contender rotating, so drift and other processes' load hit all of them alike.
 */
export class Alternation {
  private readonly processes = new Map<ContenderId, ContenderProcess>();

  /**
   * @param waitQuietS before each block, wait up to this many seconds for
   *   other processes to use under {@link QUIET_CORES} cores for 2 s (0: never wait).
   */
  constructor(
    readonly model: ModelId,
    readonly records: ContenderRecord[],
    private readonly log: Log,
    private readonly waitQuietS = 0,
  ) {}

  /**
   * Starts and sets up every ready contender, in parallel (setup is not
   * timed). A failure, or a model without the `expected` parameter counts,
   * marks that contender failed.
   */
  async setup(
    python: string,
    request: (id: ContenderId) => Extract<WorkerRequest, { cmd: 'setup' }>,
    expected: { params: number; nonTrainableParams: number },
  ): Promise<void> {
    await Promise.all(
      this.ready().map(async (record) => {
        const proc = ContenderProcess.start(record.id, python);
        this.processes.set(record.id, proc);
        try {
          const setup = (await proc.request(request(record.id))) as SetupReply;
          if (setup.params !== expected.params || setup.nonTrainableParams !== expected.nonTrainableParams) {
            throw new Error(
              `its ${this.model} has ${setup.params} parameters (${setup.nonTrainableParams} non-trainable), ` +
                `expected ${expected.params} (${expected.nonTrainableParams} non-trainable)`,
            );
          }
          record.setup = setup;
          this.log(`  ${record.id}: ${setup.engine}, ${setup.threads} thread(s), ${setup.params} parameters`);
        } catch (error) {
          record.status = 'failed';
          record.reason = (error as Error).message;
          this.log(`  ${record.id}: FAILED to set up: ${firstLine(record.reason)}`);
          await proc.close();
        }
      }),
    );
  }

  /** Untimed work on every contender that takes part in `measure` (`requestFor` returns null to skip one). */
  async warmUp(measure: Measure, requestFor: (id: ContenderId) => WorkerRequest | null): Promise<void> {
    for (const record of this.taking(measure)) {
      const req = requestFor(record.id);
      if (!req) continue;
      try {
        await this.proc(record.id).request(req);
      } catch (error) {
        this.fail(record, measure, error);
      }
    }
  }

  /**
   * `rounds` rounds of `measure`; `requestFor(round, contender)` says what
   * one block does. A contender listed in `roundsOf` takes part in that many
   * rounds only (the first ones).
   */
  async alternate(
    measure: Measure,
    rounds: number,
    requestFor: (round: number, id: ContenderId) => WorkerRequest,
    roundsOf: Partial<Record<ContenderId, number>> = {},
  ): Promise<void> {
    for (let round = 0; round < rounds; round++) await this.round(measure, round, rounds, requestFor, roundsOf);
  }

  /**
   * Round `round` (of `rounds`, for the log) of `measure`: one block per
   * taking contender, the first one rotating with `round`. For measures
   * interleaved round by round (epochs with and without validation).
   */
  async round(
    measure: Measure,
    round: number,
    rounds: number,
    requestFor: (round: number, id: ContenderId) => WorkerRequest,
    roundsOf: Partial<Record<ContenderId, number>> = {},
  ): Promise<void> {
    const seen: string[] = [];
    for (const record of rotate(this.taking(measure), round)) {
      if (record.errors[measure] || round >= (roundsOf[record.id] ?? rounds)) continue;
      const proc = this.proc(record.id);
      try {
        if (this.waitQuietS > 0) await this.waitQuiet();
        const before = cpuSnapshot([proc.pid, process.pid]);
        const req = requestFor(round, record.id);
        const reply = await proc.request(req);
        const after = cpuSnapshot([proc.pid, process.pid]);
        if (!('ms' in reply)) throw new Error(`${record.id} answered a '${measure}' block without timings`);
        const block: Block = { round, ms: reply.ms, foreignCores: foreignCores(before, after) };
        if (reply.loss !== undefined) block.loss = reply.loss;
        if (reply.valLoss !== undefined) block.valLoss = reply.valLoss;
        if (req.cmd === 'inference' && req.images !== undefined) block.images = req.images;
        (record.blocks[measure] ??= []).push(block);
        seen.push(
          `${record.id} ${median(block.ms).toFixed(1)} ms${block.foreignCores > FOREIGN_FLAG_CORES ? ` (others ${block.foreignCores.toFixed(2)} cores)` : ''}`,
        );
      } catch (error) {
        this.fail(record, measure, error);
      }
    }
    this.log(`  ${this.model} ${measure} round ${round + 1}/${rounds}: ${seen.join(', ')}`);
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.close()));
    this.processes.clear();
  }

  /** Waits until other processes have used under {@link QUIET_CORES} cores for 2 consecutive seconds, or gives up after `waitQuietS`. */
  private async waitQuiet(): Promise<void> {
    const pids = [process.pid, ...[...this.processes.values()].map((p) => p.pid)];
    const giveUp = performance.now() + this.waitQuietS * 1000;
    let quietSeconds = 0;
    let waited = false;
    while (quietSeconds < 2) {
      const before = cpuSnapshot(pids);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const load = foreignCores(before, cpuSnapshot(pids));
      quietSeconds = load < QUIET_CORES ? quietSeconds + 1 : 0;
      if (quietSeconds === 0 && !waited) {
        this.log(`  waiting for a quiet CPU (other processes use ${load.toFixed(2)} cores)...`);
        waited = true;
      }
      if (performance.now() > giveUp) {
        this.log(`  gave up waiting after ${this.waitQuietS} s; measuring anyway (see "other CPU")`);
        return;
      }
    }
  }

  private ready(): ContenderRecord[] {
    return this.records.filter((r) => r.status === 'ready');
  }

  private taking(measure: Measure): ContenderRecord[] {
    return this.ready().filter((r) => contenderMeasures(this.model, r.id).includes(measure) && !r.errors[measure]);
  }

  private proc(id: ContenderId): ContenderProcess {
    const proc = this.processes.get(id);
    if (!proc) throw new Error(`no worker for ${id}`);
    return proc;
  }

  private fail(record: ContenderRecord, measure: Measure, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    record.errors[measure] = message;
    this.log(`  ${record.id}: ${measure} FAILED: ${firstLine(message)}`);
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0];
}
