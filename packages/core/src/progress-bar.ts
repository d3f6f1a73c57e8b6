import cliProgress from 'cli-progress';
import { onInterrupt } from './files.js';

/*
 * The terminal progress bar of `fit` with verbose 1 (cli-progress). Browser
 * bundles get progress-bar.browser.ts instead (package.json `browser`
 * field), which draws none.
 */

/** DECAWM on: the escape sequence that turns the terminal's auto-wrap back on. */
const AUTO_WRAP_ON = '\x1b[?7h';

/** A running bar: moved after each step, stopped at the epoch's end. */
export interface ProgressBar {
  /** Moves the bar to `value` steps, showing `loss` and the metrics' text (` - key: value` each). */
  update(value: number, loss: string, metrics: string): void;
  /** Removes the bar and restores the terminal. */
  stop(): void;
}

/** Starts a bar of `total` steps at `start` on the terminal `output`; a step counter when `total` is unknown (null). */
export function startBar(output: NodeJS.WritableStream, total: number | null, start: number): ProgressBar | null {
  const bar = new cliProgress.SingleBar(
    {
      format: total !== null ? '{value}/{total} [{bar}] - ETA: {eta_formatted} - loss: {loss}{metrics}' : '{value} steps - loss: {loss}{metrics}',
      barCompleteChar: '=',
      barIncompleteChar: '.',
      barsize: 30,
      hideCursor: false,
      stream: output,
      etaBuffer: 20,
      clearOnComplete: true,
    },
    cliProgress.Presets.legacy,
  );
  bar.start(total ?? Number.MAX_SAFE_INTEGER, start, { loss: '-', metrics: '' });
  // The bar turns the terminal's auto-wrap off until stop(); Ctrl-C or SIGTERM never reaches stop().
  const forget = onInterrupt(() => output.write(AUTO_WRAP_ON));
  return {
    update: (value, loss, metrics) => bar.update(value, { loss, metrics }),
    stop: () => {
      bar.stop();
      forget();
    },
  };
}
