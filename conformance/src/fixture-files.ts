/**
 * Where the fixture files live and how they are read, in Node: paths under the
 * package's `fixtures/` folder, read from disk. The browser build swaps this
 * module for `fixture-files.browser.ts` (package.json `browser` field), which
 * reads the same files from what {@link fetchConformanceFixtures} fetched.
 * @packageDocumentation
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The location of `fixtures/<relative>`: an absolute path resolved from this
 * module, the same folder from `src/` (vitest) and from `dist/`.
 */
export function fixtureLocation(relative: string): string {
  return fileURLToPath(new URL(`../fixtures/${relative}`, import.meta.url));
}

/** The location of `name` inside the fixture folder `dir`. */
export function joinFixture(dir: string, name: string): string {
  return join(dir, name);
}

/** The text of the fixture at `location`; throws the file system's error (with its `code`) when it cannot be read. */
export function readFixtureText(location: string): string {
  return readFileSync(location, 'utf8');
}

/** Whether a fixture exists at `location`. */
export function fixtureExists(location: string): boolean {
  return existsSync(location);
}
