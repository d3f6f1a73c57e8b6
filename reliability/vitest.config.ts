import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The machine running CI may be shared and slow: engine start-up (wasm, onnxruntime sessions) can take seconds.
  test: { include: ['test/**/*.test.ts'], testTimeout: 30_000 },
});
