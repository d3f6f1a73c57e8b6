import type { Backend } from '@araboza/core';
import type { DeviceName } from '@araboza/onnxruntime';
import type { EngineRequest } from '@araboza/tfjs';

/** Backends the examples can run on. */
export const BACKEND_NAMES = ['onnxruntime', 'tfjs'] as const;

/** A backend package name as given on the command line. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Which backend to create, with its engine (tfjs) or device (onnxruntime). */
export interface BackendChoice {
  backend: BackendName;
  /** tfjs engine: `wasm`, `cpu`, `tensorflow` or `auto` (default). */
  engine?: string;
  /** onnxruntime device: `cpu` (default), `cuda`, `webgpu` or `auto`. */
  device?: string;
}

/**
 * Creates a backend from a command-line choice. Backend packages are
 * imported on demand so that running one never loads the other engine.
 */
export async function createExampleBackend(choice: BackendChoice): Promise<Backend> {
  if (choice.backend === 'tfjs') {
    const { tfjsBackend, ENGINE_REQUESTS } = await import('@araboza/tfjs');
    const engine = choice.engine ?? 'auto';
    if (!(ENGINE_REQUESTS as readonly string[]).includes(engine)) throw new Error(`unknown tfjs engine '${engine}' (${ENGINE_REQUESTS.join(', ')})`);
    return tfjsBackend({ engine: engine as EngineRequest });
  }
  const { onnxruntimeBackend, DEVICES } = await import('@araboza/onnxruntime');
  const device = choice.device ?? 'cpu';
  if (!(DEVICES as readonly string[]).includes(device)) throw new Error(`unknown onnxruntime device '${device}' (${DEVICES.join(', ')})`);
  return onnxruntimeBackend({ device: device as DeviceName });
}
