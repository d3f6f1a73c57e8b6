import { BackendError } from '@araboza/core';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { intAttr, intsAttr, OnnxGraphBuilder } from './onnx-graph.js';
import { blockConvolutions, NCHWC_DOMAIN } from './nchwc.js';
import type { SessionSource } from './session-source.js';

/**
 * Where generated models run: `cpu`, `cuda` or `webgpu` (each fails when
 * unavailable), or `auto` (CUDA when it works, else WebGPU, else the CPU).
 */
export type DeviceName = 'cpu' | 'cuda' | 'webgpu' | 'auto';

/** The execution provider actually used. */
export type ResolvedDevice = 'cpu' | 'cuda' | 'webgpu';

/** Every device name {@link onnxruntimeBackend} accepts. */
export const DEVICES: readonly DeviceName[] = ['cpu', 'cuda', 'webgpu', 'auto'];

/** How a user gets a WebGPU adapter (quoted in errors and the README). */
export const WEBGPU_INSTALL_HINT =
  "onnxruntime-node's WebGPU provider (built in, no download) needs a GPU adapter: on Linux a GPU driver with Vulkan support " +
  "(e.g. Mesa's radv/anv or NVIDIA's driver, with the Vulkan loader libvulkan.so.1), on macOS Metal, on Windows Direct3D 12. " +
  "For testing without a GPU, SwiftShader's software Vulkan works: on Debian/Ubuntu `apt-get install chromium libvulkan1`, then run with " +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (or call useSwiftShader() first; slow: for tests, not training)';

/** Where Debian's and Ubuntu's `chromium` package puts SwiftShader's Vulkan driver manifest. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Points this process's Vulkan loader at SwiftShader (a software Vulkan
 * device, see {@link SWIFTSHADER_ICD}) so that `device: 'webgpu'` runs
 * without a GPU: for tests, not training (it is slow). Sets
 * `VK_ICD_FILENAMES` and `VK_DRIVER_FILES` (the loader's old and new names)
 * and, when unset, `XDG_RUNTIME_DIR`. The loader reads them when the first
 * WebGPU session starts, so call this before that; afterwards it changes
 * nothing. Where a GPU driver is installed, not calling it keeps the GPU.
 * @returns whether the manifest exists (false: nothing was set).
 */
export function useSwiftShader(icd: string = SWIFTSHADER_ICD): boolean {
  if (!existsSync(icd)) return false;
  process.env.VK_ICD_FILENAMES = icd;
  process.env.VK_DRIVER_FILES = icd;
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  return true;
}

/** How a GPU user installs onnxruntime-node's CUDA provider (quoted in errors and the README). */
export const CUDA_INSTALL_HINT =
  "install onnxruntime-node's CUDA 12 provider: with pnpm, allow its build script (allowBuilds: {onnxruntime-node: true} in pnpm-workspace.yaml) " +
  'and reinstall it with ONNXRUNTIME_NODE_INSTALL=cuda12 (e.g. `ONNXRUNTIME_NODE_INSTALL=cuda12 pnpm install --force`); with npm, ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`. The download needs internet access, an NVIDIA driver, CUDA 12 and cuDNN 9';

/** A tiny model (y = x + x) used once to check that a provider can create sessions. */
function probeModelBytes(): Uint8Array {
  const b = new OnnxGraphBuilder();
  const x = b.input('x', [1]);
  b.output(b.rename(b.op('Add', [x, x], [1]), 'y'));
  return b.encode('araboza_device_probe');
}

/** A model with one NCHWc ReorderInput of a `[1, 4, 1, 1]` input: its output has the block size as channels. */
function blockProbeModelBytes(): Uint8Array {
  const b = new OnnxGraphBuilder();
  const x = b.input('x', [1, 4, 1, 1]);
  b.nodes.push({ name: 'node/ReorderInput', opType: 'ReorderInput', domain: NCHWC_DOMAIN, inputs: [x], outputs: ['y'], attributes: {} });
  b.shapes.set('y', [1, 4, 1, 1]);
  b.output('y');
  return b.encode('araboza_nchwc_probe');
}

/**
 * A model computing one convolution twice, from `channels` to `channels / 2`
 * filters with a 3×3 kernel: `plain` with the kernel as a constant (ONNX
 * Runtime's own path) and `blocked` with it as the input `w`, rewritten by
 * {@link blockConvolutions} for `block` (filters padded to a block).
 */
function blockCheckModelBytes(block: number, data: Float32Array): Uint8Array {
  const b = new OnnxGraphBuilder();
  const x = b.input('x', [1, block, 5, 5]);
  const w = b.input('w', [block / 2, block, 3, 3]);
  const attrs = { strides: intsAttr([1, 1]), dilations: intsAttr([1, 1]), pads: intsAttr([1, 1, 1, 1]), group: intAttr(1) };
  b.output(b.rename(b.op('Conv', [x, b.floatConstant('w_constant', [block / 2, block, 3, 3], data)], [1, block / 2, 5, 5], attrs), 'plain'));
  b.output(b.rename(b.op('Conv', [x, w], [1, block / 2, 5, 5], attrs), 'blocked'));
  blockConvolutions(b, block);
  return b.encode('araboza_nchwc_check');
}

let cpuConvBlock: Promise<number> | null = null;

/**
 * The NCHWc block size of this onnxruntime-node build on this CPU (16 with
 * AVX-512, 8 with AVX2; ONNX Runtime picks it at load time and offers no
 * query): ReorderInput pads channels up to a whole block, so reordering 4
 * channels gives one block. The kernel layout nchwc.ts writes is then
 * checked on one small convolution against ONNX Runtime's own (a runtime
 * whose layout differs gets plain ONNX, not wrong values). 0 when the build
 * has no NCHWc kernels (the probe fails), a block of 1, or a failed check.
 * Measured once per process.
 */
export function nchwcBlockSize(): Promise<number> {
  cpuConvBlock ??= (async () => {
    try {
      const block = await runOnCpu(blockProbeModelBytes(), { x: new ort.Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) }, (out) => Number(out.y.dims[1]));
      if (!Number.isInteger(block) || block < 2) return 0;
      const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.618 + seed));
      const w = values((block / 2) * block * 9, 1);
      const feeds = { x: new ort.Tensor('float32', values(block * 25, 2), [1, block, 5, 5]), w: new ort.Tensor('float32', w, [block / 2, block, 3, 3]) };
      const agrees = await runOnCpu(blockCheckModelBytes(block, w), feeds, (out) => {
        const plain = out.plain.data as Float32Array;
        const blocked = out.blocked.data as Float32Array;
        return plain.length === blocked.length && plain.every((v, i) => Math.abs(v - blocked[i]) <= 1e-4 * (1 + Math.abs(v)));
      });
      return agrees ? block : 0;
    } catch {
      return 0;
    }
  })();
  return cpuConvBlock;
}

/** Runs `bytes` once on the CPU with `feeds` and returns `read` of the outputs; the session is released. */
async function runOnCpu<T>(bytes: Uint8Array, feeds: Record<string, ort.Tensor>, read: (out: ort.InferenceSession.OnnxValueMapType) => T): Promise<T> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 4 });
  try {
    return read(await session.run(feeds));
  } finally {
    await session.release();
  }
}

/**
 * Where onnxruntime-node keeps its CUDA provider library on this platform
 * (it is downloaded there by its install script with ONNXRUNTIME_NODE_INSTALL=cuda12),
 * or null on platforms without CUDA builds (macOS).
 */
export function cudaProviderLibraryPath(): string | null {
  const file = process.platform === 'linux' ? 'libonnxruntime_providers_cuda.so' : process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : null;
  if (!file) return null;
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch, file);
}

/** Session options shared by every generated model. */
export interface SessionSettings {
  /** Intra-op threads (ONNX Runtime's default: one per physical core). */
  readonly threads?: number;
  /** Whether idle intra-op threads spin-wait between ops (see OnnxruntimeBackendOptions.spinning). */
  readonly spinning: boolean;
}

/** Why a probe failed, in one line, without the source location of onnxruntime's failed check (`…/file.cc:136 … was false.`). */
function reasonOf(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  return message.replace(/^\S+\.cc:\d+ .*? was false\. /, '');
}

/** Creates ONNX Runtime sessions on one resolved device. */
export class SessionFactory implements SessionSource {
  private resolved: Promise<ResolvedDevice> | null = null;
  private device: ResolvedDevice | null = null;

  constructor(
    private readonly requested: DeviceName,
    private readonly settings: SessionSettings,
    private readonly log: (message: string) => void,
  ) {}

  /** The device sessions run on, once resolved; null before the first compile. */
  get current(): ResolvedDevice | null {
    return this.device;
  }

  /**
   * Resolves the device once: `cpu` directly; `cuda` and `webgpu` by
   * creating a probe session with that provider alone (a BackendError naming
   * the fix when it fails); `auto` tries CUDA, then WebGPU, then settles on
   * the CPU, and logs once which provider runs and why the others did not.
   */
  resolve(): Promise<ResolvedDevice> {
    this.resolved ??= this.doResolve().then((d) => (this.device = d));
    return this.resolved;
  }

  private async doResolve(): Promise<ResolvedDevice> {
    if (this.requested === 'cpu') return 'cpu';
    if (this.requested === 'cuda' || this.requested === 'webgpu') {
      const failure = await this.probe(this.requested);
      if (failure === null) return this.requested;
      this.resolved = null;
      if (this.requested === 'cuda')
        throw new BackendError(`onnxruntime backend: device 'cuda' is not available (${failure}). To use an NVIDIA GPU, ${CUDA_INSTALL_HINT}.`);
      throw new BackendError(`onnxruntime backend: device 'webgpu' is not available (${failure}). ${WEBGPU_INSTALL_HINT}.`);
    }
    const cuda = await this.probe('cuda');
    if (cuda === null) {
      this.log('@araboza/onnxruntime: device auto → running on CUDA (CUDAExecutionProvider)');
      return 'cuda';
    }
    const webgpu = await this.probe('webgpu');
    if (webgpu === null) {
      this.log(`@araboza/onnxruntime: device auto → CUDA is not available (${cuda}); running on WebGPU (WebGpuExecutionProvider, CPU for the ops it lacks)`);
      return 'webgpu';
    }
    this.log(
      `@araboza/onnxruntime: device auto → CUDA is not available (${cuda}); WebGPU is not available (${webgpu}); running on CPU (CPUExecutionProvider). ` +
        `To use an NVIDIA GPU, ${CUDA_INSTALL_HINT}. To use any GPU through WebGPU, ${WEBGPU_INSTALL_HINT}.`,
    );
    return 'cpu';
  }

  /** Creates and releases a tiny session on one provider alone: null when it works, else why not. */
  private async probe(device: 'cuda' | 'webgpu'): Promise<string | null> {
    try {
      if (device === 'cuda') {
        // Checking for the library first keeps onnxruntime's native error log out of the console on machines without it.
        const library = cudaProviderLibraryPath();
        if (!library) throw new Error(`onnxruntime-node has no CUDA build for ${process.platform}`);
        if (!existsSync(library)) throw new Error(`onnxruntime-node's CUDA provider library is not installed: ${library} is missing`);
      }
      const probe = await ort.InferenceSession.create(probeModelBytes(), { executionProviders: this.providers(device, true), logSeverityLevel: 4 });
      await probe.release();
      return null;
    } catch (error) {
      return reasonOf(error);
    }
  }

  /**
   * Execution providers for `device`: a GPU provider first, then the CPU for the nodes it has no kernel for
   * (`alone`: the GPU provider only, so that a probe fails instead of
   * falling back).
   */
  private providers(device: ResolvedDevice, alone = false): string[] {
    return device === 'cpu' || alone ? [device] : [device, 'cpu'];
  }

  /** A float32 onnxruntime-node tensor over `data`. */
  tensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
    return new ort.Tensor('float32', data, dims as number[]);
  }

  /** The NCHWc block size on the CPU ({@link nchwcBlockSize}); 0 on a GPU device. */
  async convBlock(): Promise<number> {
    return (await this.resolve()) === 'cpu' ? nchwcBlockSize() : 0;
  }

  /** Creates a session for model bytes on the resolved device. */
  async create(bytes: Uint8Array): Promise<ort.InferenceSession> {
    const device = await this.resolve();
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: this.providers(device),
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      logSeverityLevel: 3,
      extra: { session: { intra_op: { allow_spinning: this.settings.spinning ? '1' : '0' } } },
    };
    if (this.settings.threads !== undefined) {
      options.intraOpNumThreads = this.settings.threads;
      options.interOpNumThreads = 1;
    }
    return ort.InferenceSession.create(bytes, options);
  }
}
