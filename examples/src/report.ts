import { formatShape, type Shape } from '@araboza/core';

/** Where an example writes its human-readable lines and its JSON summary. */
export interface Reporter {
  /** A line for people (suppressed by nothing: the JSON line always comes last). */
  line(text: string): void;
  /** The machine-readable summary, printed as the last line with `--json`. */
  result(value: object): void;
}

/** A reporter on standard output; `json` adds the summary as the last line. */
export function stdoutReporter(json: boolean): Reporter {
  return {
    line: (text) => void process.stdout.write(`${text}\n`),
    result: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(value)}\n`);
    },
  };
}

/** `[64, 4, 2]` as the study note prints shapes. */
export function shapeText(shape: Shape): string {
  return formatShape(shape);
}
