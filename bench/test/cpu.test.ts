import { describe, expect, it } from 'vitest';
import { cpuSnapshot, foreignCores, fp32FlopsPerCycle, parseBusyTicks, parseCpuInfo, parseProcessTicks, peakGflops } from '../src/cpu.js';

const CPUINFO = (model: string, flags: string, vendor = 'GenuineIntel') =>
  [0, 1].map((i) => `processor\t: ${i}\nvendor_id\t: ${vendor}\nmodel name\t: ${model}\ncpu MHz\t\t: 2793.438\nflags\t\t: ${flags}\n`).join('\n');

describe('parseCpuInfo', () => {
  it('reads the nominal clock from the model name and counts processors', () => {
    const cpu = parseCpuInfo(CPUINFO('Intel(R) Xeon(R) Processor @ 2.80GHz', 'fpu sse avx avx2 fma avx512f'));
    expect(cpu).toMatchObject({ logicalCpus: 2, clockGHz: 2.8, clockSource: 'model name', vendor: 'GenuineIntel' });
    expect(cpu.flags.has('avx512f')).toBe(true);
  });

  it('falls back to cpu MHz when the model name has no clock', () => {
    const cpu = parseCpuInfo(CPUINFO('AMD EPYC 9R14 96-Core Processor', 'avx2 fma', 'AuthenticAMD'));
    expect(cpu.clockSource).toBe('cpu MHz');
    expect(cpu.clockGHz).toBeCloseTo(2.793438, 6);
  });

  it('refuses a text without processors', () => {
    expect(() => parseCpuInfo('hello\n')).toThrow(/no processor/);
  });
});

describe('fp32FlopsPerCycle', () => {
  const flops = (flags: string, vendor = 'GenuineIntel') => fp32FlopsPerCycle({ vendor, flags: new Set(flags.split(' ')) }).value;
  it('gives 64 for Intel AVX-512 (two 512-bit FMA units)', () => expect(flops('avx avx2 fma avx512f')).toBe(64));
  it('gives 32 for AMD AVX-512 on 256-bit pipes', () => expect(flops('avx avx2 fma avx512f', 'AuthenticAMD')).toBe(32));
  it('gives 32 for AVX2 with FMA', () => expect(flops('avx avx2 fma')).toBe(32));
  it('gives 16 for AVX without FMA', () => expect(flops('sse avx')).toBe(16));
  it('gives 8 for SSE only', () => expect(flops('sse sse2')).toBe(8));
});

describe('peakGflops', () => {
  it('multiplies cores, clock and FLOPs per cycle', () => {
    expect(peakGflops(2, 2.8, 64)).toBeCloseTo(358.4, 10);
  });
});

describe('/proc parsing', () => {
  it('sums user, nice, system, irq, softirq and steal from /proc/stat', () => {
    expect(parseBusyTicks('cpu  10 1 5 1000 7 2 3 4 0 0\ncpu0 1 2 3\n')).toBe(10 + 1 + 5 + 2 + 3 + 4);
  });

  it('reads utime + stime after a command name holding spaces and parentheses', () => {
    const fields = ['S', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '111', '222', '0'];
    expect(parseProcessTicks(`42 (a) b (c)) ${fields.join(' ')}`)).toBe(333);
  });

  it('reports no negative foreign load', () => {
    const before = cpuSnapshot([process.pid]);
    const after = { ...before, own: before.own + 1000, at: before.at + 1000 };
    expect(foreignCores(before, after)).toBe(0);
  });
});
