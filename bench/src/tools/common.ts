/**
 * Helpers shared by the tools in this folder: the `--name value` flag
 * parsing the former package scripts used (kept so that their command lines
 * still work), medians, process CPU time and the reference models the
 * onnxruntime tools train.
 */
import { denoisingUnet, mnistAutoencoder, smallResidualNetwork, type LossName, type Model } from '@araboza/core';

/** A reference model as the onnxruntime tools train it: its builder, its loss and its training batch. */
export interface ToolModel {
  readonly build: (seed: number) => Model;
  readonly loss: LossName;
  readonly batch: number;
}

/**
 * The reference models by the name the tools' `MODEL` variable takes: the
 * MNIST autoencoder, the denoising U-Net and the residual network of
 * DESIGN.md, each with the loss and batch the bench trains it with.
 */
export const TOOL_MODELS = {
  autoencoder: { build: (seed: number) => mnistAutoencoder({ seed }), loss: 'binaryCrossentropy', batch: 256 },
  unet: { build: (seed: number) => denoisingUnet({ seed }), loss: 'binaryCrossentropy', batch: 256 },
  resnet: { build: (seed: number) => smallResidualNetwork({ seed }), loss: 'categoricalCrossentropy', batch: 128 },
} as const satisfies Record<string, ToolModel>;

/** The entry of {@link TOOL_MODELS} that `MODEL` names (the autoencoder when unset); throws on an unknown name. */
export function toolModelFromEnv(): { name: keyof typeof TOOL_MODELS; model: ToolModel } {
  const name = (process.env.MODEL ?? 'autoencoder') as keyof typeof TOOL_MODELS;
  const model: ToolModel | undefined = TOOL_MODELS[name];
  if (!model) throw new Error(`MODEL must be one of ${Object.keys(TOOL_MODELS).join(', ')}, got ${name}`);
  return { name, model };
}

/**
 * Every `--name value` pair of `argv`, by name without the dashes. A flag
 * with no value after it maps to `undefined`, as the former scripts read it.
 */
export function flagArgs(argv: readonly string[]): Record<string, string | undefined> {
  const flags: Record<string, string | undefined> = {};
  argv.forEach((a, i) => {
    if (a.startsWith('--')) flags[a.slice(2)] = argv[i + 1];
  });
  return flags;
}

/** The upper median of `xs` (the element at index ⌊n/2⌋ once sorted); `NaN` for none. */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
}

/** User plus system CPU time of this process so far, all threads, in milliseconds. */
export function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}
