/**
 * The package's root: the repository in a checkout (sources run through tsx), or the installed
 * package when the compiled `dist/` runs. Found as the nearest folder above this file with a
 * package.json, so it is the same place from `workers/` and from `dist/workers/`.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(__dirname);

/** package.json's version, for `esxi-zfs --version`. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** True when this process runs the TypeScript sources (a checkout, through tsx), not `dist/`. */
export const RUNNING_FROM_SOURCE = __filename.endsWith('.ts');
