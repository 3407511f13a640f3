/**
 * The workflow bundle of a checkout, made once per version of its sources: kept in
 * .data/workflow-bundles/<digest>.js, where the digest covers everything the bundle is made of
 * (workflows/ and core/, the only code workflows may import, and package-lock.json for
 * @temporalio/workflow and the bundler). A worker started again on the same sources, or beside
 * another (tests, a second worker), reuses it instead of running webpack for seconds of CPU.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';

const SOURCES = ['workflows', 'core'];
/** Bundles of other sources are removed once this old: a checkout's older versions, not a neighbour's current one. */
const KEEP_OTHERS_MS = 60 * 60 * 1000;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}

/** A digest of what a bundle of the workflows in `root` is made from. */
export function sourcesDigest(root: string): string {
  const hash = createHash('sha256');
  const files = [...SOURCES.flatMap((d) => filesUnder(path.join(root, d))), path.join(root, 'package-lock.json')];
  for (const file of files) hash.update(`${path.relative(root, file)}\0`).update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 32);
}

/**
 * The bundle for the sources in `root`: the kept one, or one `make(out)` writes now (to a file of its
 * own first, then renamed into place, so a concurrent reader never sees half a bundle).
 */
export async function cachedBundle(root: string, make: (out: string) => Promise<void>): Promise<string> {
  const dir = path.join(root, '.data', 'workflow-bundles');
  const bundle = path.join(dir, `${sourcesDigest(root)}.js`);
  if (existsSync(bundle)) return bundle;
  mkdirSync(dir, { recursive: true });
  const partial = `${bundle}.${process.pid}.partial`;
  try {
    await make(partial);
    renameSync(partial, bundle);
  } finally {
    rmSync(partial, { force: true });
  }
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    const modified = statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
    if (file !== bundle && Date.now() - modified > KEEP_OTHERS_MS) rmSync(file, { force: true });
  }
  return bundle;
}
