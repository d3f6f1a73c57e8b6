import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Each test starts a child process with an engine; running them one at a time keeps 2-core machines responsive.
  test: { include: ['test/**/*.test.ts'], fileParallelism: false, testTimeout: 60_000 },
});
