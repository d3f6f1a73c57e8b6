import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

// The browser build: package.json's `browser` field swaps fixture-files.js for fixture-files.browser.js, as a bundler does.
vi.mock('../src/fixture-files.js', () => import('../src/fixture-files.browser.js'));

const { browserConformanceCases, fetchConformanceFixtures, CONFORMANCE_FIXTURE_FILES, NODE_ONLY_TESTS } = await import('../src/browser.js');
const { conformanceCases } = await import('../src/suite.js');

const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Every file under `dir`, relative to `root`, with `/` separators. */
function filesUnder(dir: string, root: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), root) : [relative(root, join(dir, e.name)).split(sep).join('/')],
  );
}

/** A fetch answering from the fixtures folder on disk, as a page's server would; other paths answer 404. */
const diskFetch = (async (url: URL | string) => {
  const path = new URL(String(url)).pathname;
  const rel = path.startsWith('/fixtures/') ? path.slice('/fixtures/'.length) : null;
  if (rel === null || !filesUnder(fixturesDir, fixturesDir).includes(rel)) return new Response('not found', { status: 404, statusText: 'Not Found' });
  return new Response(readFileSync(join(fixturesDir, rel), 'utf8'));
}) as typeof fetch;

const nodeOnly = (id: string) => NODE_ONLY_TESTS.some((p) => (p.endsWith('/') ? id.startsWith(p) : id === p));

describe('the browser runner', () => {
  it('lists every fixture file of the package, and only those', () => {
    expect([...CONFORMANCE_FIXTURE_FILES].sort()).toEqual(filesUnder(fixturesDir, fixturesDir).sort());
  });

  it('cannot build the suite before the fixtures are fetched, and says so', () => {
    expect(() => browserConformanceCases()).toThrow(/fixtures\/golden\/\w+\.json: not fetched; call fetchConformanceFixtures/);
  });

  it('names the URL and status of a fixture it cannot fetch', async () => {
    await expect(fetchConformanceFixtures('http://127.0.0.1/missing/', diskFetch)).rejects.toThrow(
      /GET http:\/\/127\.0\.0\.1\/missing\/edges\/activation\.json answered 404 Not Found/,
    );
  });

  it('builds from fetched fixtures the Node suite less its Node-only tests, in the same order', async () => {
    await fetchConformanceFixtures('http://127.0.0.1/fixtures', diskFetch);
    const browserIds = browserConformanceCases().map((c) => c.id);
    const nodeIds = conformanceCases({ training: 'short' }).map((c) => c.id);
    expect(browserIds).toEqual(nodeIds.filter((id) => !nodeOnly(id)));
    expect(browserIds.length).toBeGreaterThan(300);
  });
});
