import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The shared float64 reference and the metric goldens' loader, by their published names, from
  // conformance's source (see tsconfig.json for why it is not a dependency).
  resolve: {
    alias: {
      '@araboza/conformance/reference': fileURLToPath(new URL('../../conformance/src/reference.ts', import.meta.url)),
      '@araboza/conformance/metric-golden': fileURLToPath(new URL('../../conformance/src/metric-golden.ts', import.meta.url)),
    },
  },
  test: { include: ['test/**/*.test.ts'] },
});
