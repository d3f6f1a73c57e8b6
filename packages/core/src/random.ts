import { ConfigError } from './errors.js';

/**
 * A small seeded pseudo-random generator (xoshiro128**), so initial weights,
 * shuffles and random tensors are the same on every backend and every run.
 * Its whole state is four 32-bit words, which checkpoints save and restore.
 */
export class Random {
  private s: Uint32Array;
  private spareNormal: number | null = null;

  /** Creates a generator from an integer seed (any finite number; fractional parts are ignored). */
  constructor(seed = 0) {
    this.s = new Uint32Array(4);
    // splitmix32 spreads a small seed over the whole state; xoshiro must not start at all zeros.
    let x = Math.trunc(seed) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s[0] === 0 && this.s[1] === 0 && this.s[2] === 0 && this.s[3] === 0) this.s[0] = 1;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Standard normal sample (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fisher–Yates permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** The generator's state, to save in a checkpoint. */
  getState(): number[] {
    return [...this.s, this.spareNormal === null ? Number.NaN : this.spareNormal];
  }

  /**
   * Restores a state returned by {@link Random.getState} (a JSON round trip
   * may turn its NaN into null).
   * @throws ConfigError for anything else: words that are not 32-bit
   * unsigned integers, all-zero words (xoshiro would then return 0 forever
   * and `normal()` would never end), or a cached normal that is not finite.
   */
  setState(state: readonly (number | null)[]): void {
    if (!Array.isArray(state) || state.length !== 5) {
      throw new ConfigError(`Random.setState: state must be 5 numbers (getState()), got ${JSON.stringify(state)?.slice(0, 100)}`);
    }
    const words = state.slice(0, 4);
    if (!words.every((w) => Number.isInteger(w) && (w as number) >= 0 && (w as number) < 2 ** 32) || words.every((w) => w === 0)) {
      throw new ConfigError(`Random.setState: the first 4 numbers must be 32-bit unsigned integers, not all 0; got ${JSON.stringify(words)}`);
    }
    const spare = state[4];
    if (!(spare === null || Number.isNaN(spare) || Number.isFinite(spare))) {
      throw new ConfigError(`Random.setState: the 5th number must be NaN, null or finite, got ${spare}`);
    }
    for (let i = 0; i < 4; i++) this.s[i] = (words[i] as number) >>> 0;
    this.spareNormal = spare === null || Number.isNaN(spare) ? null : spare;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
