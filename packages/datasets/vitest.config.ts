import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Whole-split MNIST reads (47 MB) run past vitest's 5 s default on a loaded 2-core machine.
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
