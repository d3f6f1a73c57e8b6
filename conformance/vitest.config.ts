import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The test files import the package by its public name, as a backend
    // package would; point it at the sources so no build is needed first.
    // The subpath comes first: an alias matches its key as a prefix too.
    alias: {
      '@araboza/conformance/reference': fileURLToPath(new URL('./src/reference.ts', import.meta.url)),
      '@araboza/conformance': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // One test file at a time: the full-HD tests hold 1.6 GB tensors, and
    // the backends' training tests each want both cores.
    fileParallelism: false,
    // Each conformance test sets its own limit (60 s for a golden case up
    // to 15 min for a training epoch); this is the default for the rest.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
