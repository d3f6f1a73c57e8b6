import { readFileSync } from 'node:fs';

/** What the bench needs to know about the processor, read from `/proc/cpuinfo`. */
export interface CpuInfo {
  /** `model name`, e.g. `Intel(R) Xeon(R) Processor @ 2.80GHz`. */
  model: string;
  /** `vendor_id`, e.g. `GenuineIntel` or `AuthenticAMD`. */
  vendor: string;
  /** Logical processors listed. */
  logicalCpus: number;
  /** Clock in GHz: the nominal one in the model name when present, else the first `cpu MHz`. */
  clockGHz: number;
  /** Where {@link clockGHz} came from. */
  clockSource: 'model name' | 'cpu MHz';
  /** The feature flags of the first processor. */
  flags: ReadonlySet<string>;
  /** `cpu family` (e.g. 25 for AMD Zen 3 and Zen 4, 6 for Intel cores); null when not listed. */
  family: number | null;
  /** `model` within the family (e.g. 1 for the Zen 3 EPYC 7003 "Milan", 17 for the Zen 4 EPYC 9004 "Genoa"); null when not listed. */
  modelNumber: number | null;
}

/** Parses the text of `/proc/cpuinfo`. @throws Error when it lists no processor or no clock. */
export function parseCpuInfo(text: string): CpuInfo {
  const blocks = text.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  if (blocks.length === 0) throw new Error('/proc/cpuinfo lists no processor');
  const field = (name: string): string | undefined => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(blocks[0]);
    return m?.[1].trim();
  };
  const model = field('model name') ?? 'unknown';
  const integer = (name: string): number | null => {
    const value = field(name);
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
  };
  const nominal = /@\s*([\d.]+)\s*GHz/i.exec(model);
  const mhz = Number(field('cpu MHz'));
  let clockGHz: number;
  let clockSource: CpuInfo['clockSource'];
  if (nominal) {
    clockGHz = Number(nominal[1]);
    clockSource = 'model name';
  } else if (mhz > 0) {
    clockGHz = mhz / 1000;
    clockSource = 'cpu MHz';
  } else {
    throw new Error(`/proc/cpuinfo gives no clock (model name '${model}', no cpu MHz)`);
  }
  return {
    model,
    vendor: field('vendor_id') ?? 'unknown',
    logicalCpus: blocks.length,
    clockGHz,
    clockSource,
    flags: new Set((field('flags') ?? '').split(/\s+/).filter(Boolean)),
    family: integer('cpu family'),
    modelNumber: integer('model'),
  };
}

/**
 * AMD's cores by `cpu family` and the range of `model` numbers each
 * generation took (AMD's processor programming references). The EPYCs the
 * bench has run on, a Zen 3 without AVX-512 and a Zen 4 with it, both name
 * themselves just "AMD EPYC" in a VM.
 */
const AMD_CORES: readonly { family: number; from: number; to: number; core: string }[] = [
  { family: 23, from: 0x00, to: 0x2f, core: 'Zen / Zen+' },
  { family: 23, from: 0x30, to: 0xff, core: 'Zen 2' },
  { family: 25, from: 0x00, to: 0x0f, core: 'Zen 3' },
  { family: 25, from: 0x10, to: 0x1f, core: 'Zen 4' },
  { family: 25, from: 0x20, to: 0x5f, core: 'Zen 3' },
  { family: 25, from: 0x60, to: 0x7f, core: 'Zen 4' },
  { family: 25, from: 0xa0, to: 0xaf, core: 'Zen 4' },
  { family: 26, from: 0x00, to: 0x7f, core: 'Zen 5' },
];

/** Intel's server cores by family-6 `model` number (Intel's model-number tables). */
const INTEL_SERVER_CORES: ReadonlyMap<number, string> = new Map([
  [63, 'Haswell'],
  [79, 'Broadwell'],
  [85, 'Skylake / Cascade Lake'],
  [106, 'Ice Lake'],
  [108, 'Ice Lake'],
  [143, 'Sapphire Rapids'],
  [207, 'Emerald Rapids'],
  [173, 'Granite Rapids'],
]);

/**
 * The core generation of a CPU, from its vendor, family and model numbers
 * (`AMD Zen 3`, `Intel Sapphire Rapids`, ...), or `family F model M` for
 * one these tables do not know. Model names alone do not tell: in a VM both
 * AMD generations the bench has run on read "AMD EPYC", and they differ in
 * what matters here (Zen 4 has AVX-512, Zen 3 does not).
 */
export function coreGeneration(cpu: Pick<CpuInfo, 'vendor' | 'family' | 'modelNumber'>): string {
  const { vendor, family, modelNumber } = cpu;
  if (family === null || modelNumber === null) return 'family and model not listed';
  if (vendor === 'AuthenticAMD') {
    const known = AMD_CORES.find((c) => c.family === family && modelNumber >= c.from && modelNumber <= c.to);
    if (known) return `AMD ${known.core}`;
  }
  if (vendor === 'GenuineIntel' && family === 6) {
    const known = INTEL_SERVER_CORES.get(modelNumber);
    if (known) return `Intel ${known}`;
  }
  return `family ${family} model ${modelNumber}`;
}

/** The widest x86 vector extension the CPU reports that the engines use: `AVX-512`, `AVX2`, `AVX` or `SSE`. */
export function vectorExtension(flags: ReadonlySet<string>): 'AVX-512' | 'AVX2' | 'AVX' | 'SSE' {
  if (flags.has('avx512f')) return 'AVX-512';
  if (flags.has('avx2')) return 'AVX2';
  if (flags.has('avx')) return 'AVX';
  return 'SSE';
}

/** Single-precision FLOPs one core can retire per cycle, and why we think so. */
export interface FlopsPerCycle {
  /** FLOPs per cycle per core. */
  value: number;
  /** The assumption, in words, for the output. */
  assumption: string;
}

/**
 * Peak fp32 FLOPs per cycle per core from the vector extensions the CPU
 * reports. Assumes two FMA pipes per core (Intel Xeon Scalable "Gold/Platinum"
 * and AMD Zen), each FMA counting 2 FLOPs; AMD's AVX-512 (Zen 4) runs on
 * 256-bit pipes, so it peaks like AVX2.
 */
export function fp32FlopsPerCycle(cpu: Pick<CpuInfo, 'vendor' | 'flags'>): FlopsPerCycle {
  const f = cpu.flags;
  if (f.has('avx512f') && cpu.vendor !== 'AuthenticAMD') {
    return { value: 64, assumption: 'AVX-512: 2 FMA units × 16 fp32 lanes × 2 FLOPs = 64 FLOPs/cycle/core (32 if the part has one 512-bit FMA unit)' };
  }
  if (f.has('avx512f')) {
    return { value: 32, assumption: 'AMD AVX-512 on 256-bit pipes (Zen 4): 2 FMA pipes × 8 fp32 lanes × 2 FLOPs = 32 FLOPs/cycle/core' };
  }
  if (f.has('avx2') && f.has('fma')) {
    return { value: 32, assumption: 'AVX2+FMA: 2 FMA units × 8 fp32 lanes × 2 FLOPs = 32 FLOPs/cycle/core' };
  }
  if (f.has('avx')) {
    return { value: 16, assumption: 'AVX without FMA: 1 add + 1 multiply × 8 fp32 lanes = 16 FLOPs/cycle/core' };
  }
  return { value: 8, assumption: 'SSE: 1 add + 1 multiply × 4 fp32 lanes = 8 FLOPs/cycle/core' };
}

/** Peak fp32 GFLOP/s of `cores` cores: cores × clock × FLOPs per cycle. */
export function peakGflops(cores: number, clockGHz: number, flopsPerCycle: number): number {
  return cores * clockGHz * flopsPerCycle;
}

/** Reads and parses this machine's `/proc/cpuinfo`. */
export function readCpuInfo(): CpuInfo {
  return parseCpuInfo(readFileSync('/proc/cpuinfo', 'utf8'));
}

/** Clock ticks the whole machine spent busy (user, nice, system, irq, softirq, steal) from the first line of `/proc/stat`. */
export function parseBusyTicks(procStat: string): number {
  const fields = procStat.split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number) => fields[i] ?? 0;
  return at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
}

/** User + system clock ticks of a process (all its threads) from the text of `/proc/<pid>/stat`. */
export function parseProcessTicks(pidStat: string): number {
  // The command name may hold spaces and parentheses: fields are counted after its last ')'.
  const rest = pidStat.slice(pidStat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

/** Clock ticks per second of `/proc` counters (USER_HZ, 100 on Linux). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** A snapshot for measuring how much CPU other processes used during a block. */
export interface CpuSnapshot {
  busy: number;
  own: number;
  at: number;
}

/** Machine busy ticks and the ticks of `pids` (the measured worker and this process), now. */
export function cpuSnapshot(pids: readonly number[]): CpuSnapshot {
  const busy = parseBusyTicks(readFileSync('/proc/stat', 'utf8'));
  let own = 0;
  for (const pid of pids) {
    try {
      own += parseProcessTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      // the process is gone; its ticks no longer matter
    }
  }
  return { busy, own, at: performance.now() };
}

/** Cores' worth of CPU that processes other than the measured ones used between two snapshots (averaged over the wall time). */
export function foreignCores(before: CpuSnapshot, after: CpuSnapshot): number {
  const seconds = Math.max((after.at - before.at) / 1000, 1e-9);
  return Math.max(0, (after.busy - before.busy - (after.own - before.own)) / CLOCK_TICKS_PER_SECOND / seconds);
}
