/**
 * The browser build of `fixture-files.ts` (swapped in by package.json's
 * `browser` field): fixtures are named `fixtures/<relative>` and read from the
 * texts {@link fetchConformanceFixtures} fetched, so no Node built-in is needed.
 * @packageDocumentation
 */
import { fetchedFixture, hasFetchedFixture } from './fixture-store.js';

/** The location of `fixtures/<relative>`: its path inside the package, the key {@link fetchConformanceFixtures} stores it under. */
export function fixtureLocation(relative: string): string {
  return `fixtures/${relative}`;
}

/** The location of `name` inside the fixture folder `dir`. */
export function joinFixture(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/** The text of the fixture at `location`, as fetched; throws naming the file when it was not fetched. */
export function readFixtureText(location: string): string {
  return fetchedFixture(location);
}

/** Whether the fixture at `location` was fetched. */
export function fixtureExists(location: string): boolean {
  return hasFetchedFixture(location);
}
