import type { BatchLogs, Callbacks, EpochLogs, FitParams } from './callbacks.js';
import { startBar, type ProgressBar } from './progress-bar.js';

function formatLoss(v: number): string {
  return v.toFixed(4);
}

function formatSeconds(s: number): string {
  return s >= 10 ? `${Math.round(s)}s` : `${s.toFixed(1)}s`;
}

/**
 * `fit`'s progress display as a built-in callback (Keras's `ProgbarLogger`):
 * `Epoch i/n`, then a bar with the epoch's running loss on a terminal
 * (verbose 1), and one summary line per epoch.
 */
export class ProgressLogger implements Callbacks {
  private params: FitParams | null = null;
  private bar: ProgressBar | null = null;
  private started = 0;
  private stepsRun = 0;
  private lastStep = 0;
  private seen = 0;
  private sum = 0;

  /**
   * @param output where the lines go.
   * @param useBar whether to draw the bar (verbose 1 on a terminal).
   * @param outputKeys every key the epoch line shows after `loss` (`<output>_loss` keys of a model with several outputs, metric keys), each also with `val_` after validation.
   * @param resumed the step and loss sum a resumed epoch starts from.
   * @param metricKeys the compiled metrics' keys, shown on the bar with their running values.
   */
  constructor(
    private readonly output: NodeJS.WritableStream,
    private readonly useBar: boolean,
    private readonly outputKeys: readonly string[],
    private resumed: { epoch: number; step: number; samples: number; lossSum: number } | null,
    private readonly metricKeys: readonly string[] = [],
  ) {}

  /** Receives the epoch count and steps per epoch. */
  setParams(params: FitParams): void {
    this.params = params;
  }

  /** Prints `Epoch i/n` and starts the bar. */
  onEpochBegin(epoch: number): void {
    const { epochs, steps } = this.params!;
    const resumed = this.resumed?.epoch === epoch ? this.resumed : null;
    this.resumed = null;
    this.started = performance.now();
    this.stepsRun = 0;
    this.lastStep = resumed?.step ?? 0;
    this.seen = resumed?.samples ?? 0;
    this.sum = resumed?.lossSum ?? 0;
    this.output.write(`Epoch ${epoch + 1}/${epochs}\n`);
    if (!this.useBar) return;
    this.bar = startBar(this.output, steps, this.lastStep);
  }

  /** Moves the bar, showing the epoch's running mean loss. */
  onBatchEnd(batch: number, logs: BatchLogs): void {
    this.stepsRun++;
    this.lastStep = batch + 1;
    if (Number.isFinite(logs.loss)) {
      this.sum += logs.loss * logs.size;
      this.seen += logs.size;
    }
    const metrics = this.metricKeys.map((k) => (logs[k] === undefined ? '' : ` - ${k}: ${formatLoss(logs[k])}`)).join('');
    this.bar?.update(batch + 1, this.seen > 0 ? formatLoss(this.sum / this.seen) : '-', metrics);
  }

  /** Replaces the bar by the epoch's summary line. */
  onEpochEnd(_epoch: number, logs: EpochLogs): void {
    this.close();
    const seconds = (performance.now() - this.started) / 1000;
    const perStep = Math.round((seconds * 1000) / Math.max(1, this.stepsRun));
    const steps = this.params!.steps;
    const k = this.outputKeys;
    this.output.write(
      `${steps === null ? `${this.lastStep} steps` : `${this.lastStep}/${steps}`} - ${formatSeconds(seconds)} ${perStep}ms/step - loss: ${formatLoss(logs.loss)}` +
        k.map((key) => ` - ${key}: ${formatLoss(logs[key]!)}`).join('') +
        (logs.valLoss !== undefined ? ` - val_loss: ${formatLoss(logs.valLoss)}` : '') +
        (logs.valLoss !== undefined ? k.map((key) => ` - val_${key}: ${formatLoss(logs[`val_${key}`]!)}`).join('') : '') +
        '\n',
    );
  }

  /** Stops the bar (also when training ends with an error) and restores the terminal. */
  close(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
