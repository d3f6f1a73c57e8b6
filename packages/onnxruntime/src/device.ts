import { BackendError } from '@araboza/core';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from './onnx-graph.js';

/** Where generated models run: `cpu`, `cuda` (fails when unavailable) or `auto` (CUDA when it works, else CPU). */
export type DeviceName = 'cpu' | 'cuda' | 'auto';

/** The execution provider actually used. */
export type ResolvedDevice = 'cpu' | 'cuda';

/** Every device name {@link onnxruntimeBackend} accepts. */
export const DEVICES: readonly DeviceName[] = ['cpu', 'cuda', 'auto'];

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

/** Creates ONNX Runtime sessions on one resolved device. */
export class SessionFactory {
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
   * Resolves the device once: `cpu` directly; `cuda` and `auto` by creating
   * a probe session with the CUDA provider. `auto` falls back to the CPU and
   * logs which provider runs; `cuda` throws a BackendError naming the fix.
   */
  resolve(): Promise<ResolvedDevice> {
    this.resolved ??= this.doResolve().then((d) => (this.device = d));
    return this.resolved;
  }

  private async doResolve(): Promise<ResolvedDevice> {
    if (this.requested === 'cpu') return 'cpu';
    try {
      // Checking for the library first keeps onnxruntime's native error log out of the console on machines without it.
      const library = cudaProviderLibraryPath();
      if (!library) throw new Error(`onnxruntime-node has no CUDA build for ${process.platform}`);
      if (!existsSync(library)) throw new Error(`onnxruntime-node's CUDA provider library is not installed: ${library} is missing`);
      const probe = await ort.InferenceSession.create(probeModelBytes(), { executionProviders: ['cuda'], logSeverityLevel: 4 });
      await probe.release();
      if (this.requested === 'auto') this.log('@araboza/onnxruntime: device auto → running on CUDA (CUDAExecutionProvider)');
      return 'cuda';
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (this.requested === 'cuda') {
        this.resolved = null;
        throw new BackendError(`onnxruntime backend: device 'cuda' is not available (${reason}). To use an NVIDIA GPU, ${CUDA_INSTALL_HINT}.`);
      }
      this.log(`@araboza/onnxruntime: device auto → CUDA is not available (${reason}); running on CPU (CPUExecutionProvider). To use an NVIDIA GPU, ${CUDA_INSTALL_HINT}.`);
      return 'cpu';
    }
  }

  /** Creates a session for model bytes on the resolved device. */
  async create(bytes: Uint8Array): Promise<ort.InferenceSession> {
    const device = await this.resolve();
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
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
