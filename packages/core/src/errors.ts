/**
 * Base class of every error araboza throws on purpose. Catch it to tell a
 * user mistake (bad config, bad shape, non-finite loss) from a bug.
 */
export class ArabozaError extends Error {
  /**
   * The `name` of this class's errors, kept when a minifying bundler renames
   * the class itself. A subclass that does not declare its own gets its
   * constructor's name.
   */
  static readonly errorName: string = 'ArabozaError';
  constructor(message: string) {
    super(message);
    this.name = Object.hasOwn(new.target, 'errorName') ? (new.target as typeof ArabozaError).errorName : new.target.name;
  }
}

/** A layer or optimizer option is invalid. The message names the layer and the bad value. */
export class ConfigError extends ArabozaError {
  /** The `name` of these errors, minified or not. */
  static override readonly errorName: string = 'ConfigError';
}

/** A tensor has the wrong shape for where it is used. The message gives the expected and the actual shape. */
export class ShapeError extends ArabozaError {
  /** The `name` of these errors, minified or not. */
  static override readonly errorName: string = 'ShapeError';
}

/** Training produced a non-finite loss, gradient or update. The model keeps the last finite weights. */
export class NonFiniteLossError extends ArabozaError {
  /** The `name` of these errors, minified or not. */
  static override readonly errorName: string = 'NonFiniteLossError';
  /** Zero-based epoch in which the loss became non-finite. */
  readonly epoch: number;
  /** Zero-based step within that epoch. */
  readonly step: number;
  /** The loss value (NaN or ±Infinity). */
  readonly loss: number;
  constructor(epoch: number, step: number, loss: number) {
    super(
      `loss became ${loss} at epoch ${epoch + 1}, step ${step + 1}${Number.isNaN(loss) ? ' (or a gradient, updated weight or optimizer slot was not finite)' : ''}; training stopped and the model keeps the weights from before that step`,
    );
    this.epoch = epoch;
    this.step = step;
    this.loss = loss;
  }
}

/** A backend cannot run a model: a layer kind it does not implement, an unavailable device or engine. */
export class BackendError extends ArabozaError {
  /** The `name` of these errors, minified or not. */
  static override readonly errorName: string = 'BackendError';
}

/** A saved model or checkpoint is malformed, truncated or unsafe to load. */
export class FormatError extends ArabozaError {
  /** The `name` of these errors, minified or not. */
  static override readonly errorName: string = 'FormatError';
}

/**
 * A path cannot be read or written as asked: a folder, device, FIFO or
 * socket where a regular file is expected, a missing parent folder, no
 * permission, a full disk. The message names the path and the entry point.
 */
export class FileError extends ArabozaError {
  /** The `name` of these errors, minified or not. */
  static override readonly errorName: string = 'FileError';
}
