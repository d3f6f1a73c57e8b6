import { describe, expect, it } from 'vitest';

describe('@araboza/core browser replacements', () => {
  it('gives each browser replacement exactly the runtime exports of the Node module it replaces', async () => {
    for (const name of ['files', 'saved-model', 'checkpoint', 'progress-bar']) {
      const node = Object.keys(await import(`../src/${name}.ts`)).sort();
      const browser = Object.keys(await import(`../src/${name}.browser.ts`)).sort();
      expect({ name, exports: browser }).toEqual({ name, exports: node });
    }
  });
});
