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
  };
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
