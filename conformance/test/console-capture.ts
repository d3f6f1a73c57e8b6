import { afterEach, vi } from 'vitest';

/** Collects what the code under test writes to console.log and console.error, one string per call. */
export function captureLog(): string[] {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  return lines;
}

/** Restores the console after each test of the calling file. */
export function restoreConsoleAfterEach(): void {
  afterEach(() => {
    vi.restoreAllMocks();
  });
}
