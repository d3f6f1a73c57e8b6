import type { FuzzCase } from './fuzz.js';

/** A backend bug found by these checks and reported, with the cases it explains. */
export interface KnownBackendBug {
  /** Short id used in test names and reports. */
  readonly id: string;
  /** The backend name it affects (`Backend.name`). */
  readonly backend: string;
  /** What goes wrong, where it comes from, and the upstream report. */
  readonly summary: string;
  /** Whether a fuzz case runs into it on that backend. */
  affects(c: FuzzCase): boolean;
}

/**
 * Known bugs of the backends, each reported with a minimal reproduction (see
 * the package README). The fuzz test leaves an affected case out for that
 * backend only (the others still compare on it) and counts it; a dedicated
 * `it.fails` test keeps each bug's reproduction running, so the fix shows up.
 */
export const KNOWN_BACKEND_BUGS: readonly KnownBackendBug[] = [
  // tfjs-wasm-same-stride (tfjs-backend-wasm 4.22 returns zeros for a `same` conv2d whose last stride
  // step starts past the input's end, tensorflow/tfjs#8405) was found here and is now worked around in
  // @araboza/tfjs; test/wasm-same-stride.test.ts keeps its reproductions as regression tests.
];

/** The known bugs of `backendName` that case `c` runs into. */
export function knownBugsHit(c: FuzzCase, backendName: string): KnownBackendBug[] {
  return KNOWN_BACKEND_BUGS.filter((b) => b.backend === backendName && b.affects(c));
}
