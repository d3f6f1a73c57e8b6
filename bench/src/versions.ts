import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed version of `dependency` as `fromPackage` sees it (e.g. the
 * `onnxruntime-node` that `@araboza/onnxruntime` loads), or `unknown`.
 * Looks in the `node_modules` folders above `fromPackage`'s entry file, as
 * Node's resolution does, because some packages export no package.json.
 */
export function dependencyVersion(fromPackage: string, dependency: string): string {
  let start: string;
  try {
    start = dirname(fileURLToPath(import.meta.resolve(fromPackage)));
  } catch {
    return 'unknown';
  }
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', dependency, 'package.json'), 'utf8')) as { version?: string };
      if (pkg.version) return pkg.version;
    } catch {
      // not installed at this level: keep walking up
    }
  }
  return 'unknown';
}
