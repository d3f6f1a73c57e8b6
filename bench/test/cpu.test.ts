import { describe, expect, it } from 'vitest';
import {
  coreGeneration,
  cpuSnapshot,
  foreignCores,
  fp32FlopsPerCycle,
  parseBusyTicks,
  parseCpuInfo,
  parseProcessTicks,
  peakGflops,
  vectorExtension,
} from '../src/cpu.js';

const CPUINFO = (model: string, flags: string, vendor = 'GenuineIntel', familyLines = '') =>
  [0, 1].map((i) => `processor\t: ${i}\nvendor_id\t: ${vendor}\n${familyLines}model name\t: ${model}\ncpu MHz\t\t: 2793.438\nflags\t\t: ${flags}\n`).join('\n');

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

  it('reads the family and model numbers', () => {
    const cpu = parseCpuInfo(CPUINFO('AMD EPYC', 'avx2 fma', 'AuthenticAMD', 'cpu family\t: 25\nmodel\t\t: 1\n'));
    expect(cpu).toMatchObject({ family: 25, modelNumber: 1, model: 'AMD EPYC' });
  });

  it('leaves the family and model null when they are not listed', () => {
    expect(parseCpuInfo(CPUINFO('Some CPU @ 2.00GHz', 'sse')).family).toBeNull();
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

describe('coreGeneration', () => {
  const core = (vendor: string, family: number | null, modelNumber: number | null) => coreGeneration({ vendor, family, modelNumber });
  it('tells the two AMD EPYC generations apart by model number', () => {
    expect(core('AuthenticAMD', 25, 1)).toBe('AMD Zen 3');
    expect(core('AuthenticAMD', 25, 17)).toBe('AMD Zen 4');
  });
  it('names an Intel server core by its family-6 model', () => expect(core('GenuineIntel', 6, 143)).toBe('Intel Sapphire Rapids'));
  it('falls back to the numbers for a core it does not know', () => expect(core('AuthenticAMD', 25, 0x90)).toBe('family 25 model 144'));
  it('says so when the numbers are missing', () => expect(core('GenuineIntel', null, null)).toBe('family and model not listed'));
});

describe('vectorExtension', () => {
  const widest = (flags: string) => vectorExtension(new Set(flags.split(' ')));
  it('prefers AVX-512 over AVX2', () => expect(widest('avx avx2 fma avx512f')).toBe('AVX-512'));
  it('reports AVX2 without AVX-512', () => expect(widest('avx avx2 fma')).toBe('AVX2'));
  it('falls back to SSE', () => expect(widest('sse sse2')).toBe('SSE'));
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
