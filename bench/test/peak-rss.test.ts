import { describe, expect, it } from 'vitest';
import { measurePeakRss, parseGnuTimeMaxRss, parseVmHwm } from '../src/peak-rss.js';

describe('peak RSS parsing', () => {
  it('reads the maximum resident set size from GNU time -v', () => {
    expect(parseGnuTimeMaxRss('\tExit status: 0\n\tMaximum resident set size (kbytes): 955372\n')).toBe(955_372 * 1024);
  });
  it('reads VmHWM from /proc/<pid>/status', () => {
    expect(parseVmHwm('Name:\tnode\nVmHWM:\t  123456 kB\nVmRSS:\t 1000 kB\n')).toBe(123_456 * 1024);
  });
});

describe('measurePeakRss', () => {
  it('sees a child that touches 300 MB', async () => {
    const script = 'const b = Buffer.alloc(300e6, 1); console.log(b[12345]);';
    const run = await measurePeakRss(process.execPath, ['-e', script], 60_000);
    expect(run.exitCode).toBe(0);
    expect(run.peakRssBytes).toBeGreaterThan(300e6);
    expect(run.stdoutTail).toBe('1');
  });
});
