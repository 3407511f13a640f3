/**
 * Parsers for the output of the read-only commands in `queries.ts`. Pure: text in, data out.
 *
 * Formats checked against zfs-fuse (pool version 23) in the lab:
 * - `zfs get -H -p -o name,property,value` prints `name<TAB>property<TAB>value`, one line per
 *   (dataset, property); `-` is "no value". ZFS names may contain spaces, never tabs.
 * - `zfs get -r` lists the dataset itself (and children, and on OpenZFS bookmarks `fs#bm`)
 *   alongside its snapshots: there is no `-t snapshot` on zfs-fuse.
 * - `zpool get` has no `-H` on zfs-fuse: it prints a `NAME PROPERTY VALUE SOURCE` header and
 *   space-aligned columns.
 */
import { byCreatetxg, isUint64Decimal, type Snapshot } from './snapshot';
import type { PoolVersion } from './capabilities';

type Line = { number: number; text: string };

function lines(output: string): Line[] {
  return output
    .split('\n')
    .map((text, i) => ({ number: i + 1, text: text.replace(/\r$/, '') }))
    .filter((line) => line.text.trim() !== '');
}

type Row = { name: string; property: string; value: string };

/**
 * What ZFS accepts in a dataset, snapshot or bookmark name: letters, digits, `_-.: ` and the
 * separators `/@#` (`%` in its temporary clones). A line whose name has anything else (a tab or a
 * line break read from a hostile or broken host lands here) is not a row ZFS printed.
 */
export const ZFS_NAME = /^[A-Za-z0-9_.: /@#%-]+$/;
/** Native properties are lower-case words; user properties hold a `:`. */
const ZFS_PROPERTY = /^[a-z][a-z0-9_]*$|^[a-z0-9_.+-]*:[a-z0-9_.:+-]*$/i;

function zfsGetRow(line: Line): Row {
  const [name, property, ...rest] = line.text.split('\t');
  if (!name || !property || rest.length === 0) {
    throw new Error(
      `zfs get output line ${line.number} is not "name<TAB>property<TAB>value" (was it run with -H -o name,property,value?): ${JSON.stringify(line.text)}`,
    );
  }
  if (!ZFS_NAME.test(name) || !ZFS_PROPERTY.test(property)) {
    throw new Error(
      `zfs get output line ${line.number}: ${JSON.stringify(name)} ${JSON.stringify(property)} is not a ZFS name and property (a name or value with a tab or line break, or a broken listing): ${JSON.stringify(line.text)}`,
    );
  }
  return { name, property, value: rest.join('\t') };
}

/** Rows grouped by dataset/snapshot name, in order of first appearance. */
function groupRows(output: string): Map<string, Map<string, string>> {
  const groups = new Map<string, Map<string, string>>();
  for (const line of lines(output)) {
    const row = zfsGetRow(line);
    let props = groups.get(row.name);
    if (!props) groups.set(row.name, (props = new Map()));
    const previous = props.get(row.property);
    if (previous !== undefined && previous !== row.value) {
      throw new Error(
        `zfs get output line ${line.number}: ${row.name} ${row.property} is both ${JSON.stringify(previous)} and ${JSON.stringify(row.value)}`,
      );
    }
    props.set(row.property, row.value);
  }
  return groups;
}

function uint64(snapshot: string, props: Map<string, string>, property: 'guid' | 'createtxg'): string {
  const value = props.get(property);
  if (value === undefined || !isUint64Decimal(value)) {
    throw new Error(
      `${snapshot}: ${property} ${value === undefined ? 'is missing' : `${JSON.stringify(value)} is not an unsigned 64-bit decimal`}`,
    );
  }
  return value;
}

function count(snapshot: string, property: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new Error(
      `${snapshot}: ${property} ${value === undefined ? 'is missing' : `${JSON.stringify(value)} is not a whole number (was zfs get run with -p?)`}`,
    );
  }
  return Number(value);
}

/**
 * Snapshots from `zfs get -H -p [-r -d 1] -o name,property,value guid,createtxg,creation,userrefs`.
 * Lines about non-snapshots (the filesystem itself, children, bookmarks) are skipped; with
 * `dataset`, so are snapshots of other datasets. Properties other than these four are ignored. A
 * name ZFS would not print (a tab or line break inside it) fails the whole listing: never read as
 * another snapshot.
 * `userrefs` missing or `-` (pools without holds) reads as 0. Sorted by createtxg ascending.
 */
export function parseSnapshotProps(output: string, dataset?: string): Snapshot[] {
  const snapshots: Snapshot[] = [];
  for (const [fullName, props] of groupRows(output)) {
    const at = fullName.indexOf('@');
    if (at < 0) continue;
    const snapshot = { dataset: fullName.slice(0, at), name: fullName.slice(at + 1) };
    if (dataset !== undefined && snapshot.dataset !== dataset) continue;
    if (snapshot.dataset === '' || snapshot.name === '') throw new Error(`zfs get output: bad snapshot name ${JSON.stringify(fullName)}`);
    const userrefs = props.get('userrefs');
    snapshots.push({
      ...snapshot,
      guid: uint64(fullName, props, 'guid'),
      createtxg: uint64(fullName, props, 'createtxg'),
      creation: count(fullName, 'creation', props.get('creation')),
      userrefs: userrefs === undefined || userrefs === '-' ? 0 : count(fullName, 'userrefs', userrefs),
    });
  }
  return snapshots.sort(byCreatetxg);
}

/** `zfs get -H -p -o name,property,value PROPS DATASET...` → dataset → property → value (`-` → undefined). */
export function parseDatasetProps(output: string): Record<string, Record<string, string | undefined>> {
  return Object.fromEntries(
    [...groupRows(output)].map(([name, props]) => [
      name,
      Object.fromEntries([...props].map(([property, value]) => [property, value === '-' ? undefined : value])),
    ]),
  );
}

export type PoolInfo = { version: PoolVersion; features: string[] };

/**
 * `zpool get all POOL` (with or without -H) → pool → version and enabled/active features.
 * Only `version` and `feature@*` rows are read: their values never contain spaces, unlike
 * e.g. `comment`, so splitting columns on whitespace is exact for them. The header of the
 * output without -H (`NAME PROPERTY VALUE SOURCE`) is a row of neither, so it is skipped as such.
 * Feature-flag pools show version `-` (OpenZFS, illumos); 5000 is the same thing.
 */
export function parseZpoolGet(output: string): Record<string, PoolInfo> {
  const versions = new Map<string, PoolVersion>();
  const features = new Map<string, string[]>();
  for (const line of lines(output)) {
    const [pool, property, value] = line.text.trim().split(/\s+/);
    if (!pool || !property || value === undefined) {
      throw new Error(`zpool get output line ${line.number} is not "name property value [source]": ${JSON.stringify(line.text)}`);
    }
    if (property === 'version') {
      if (value === '-' || value === '5000') versions.set(pool, 'feature-flags');
      else if (/^[1-9]\d*$/.test(value)) versions.set(pool, Number(value));
      else throw new Error(`zpool get output line ${line.number}: pool ${pool} version ${JSON.stringify(value)} is not a number or -`);
    } else if (property.startsWith('feature@') && (value === 'enabled' || value === 'active')) {
      features.set(pool, [...(features.get(pool) ?? []), property.slice('feature@'.length)]);
    }
  }
  for (const pool of features.keys()) {
    if (!versions.has(pool)) throw new Error(`zpool get output: pool ${pool} has features but no version row`);
  }
  return Object.fromEntries([...versions].map(([pool, version]) => [pool, { version, features: features.get(pool) ?? [] }]));
}

function firstLine(output: string): string {
  return lines(output)[0]?.text.trim() ?? '';
}

/**
 * The pool version the software supports, from the first line of `zpool upgrade -v`:
 * "This system is currently running ZFS pool version 23." (zfs-fuse, Solaris) or
 * "This system supports ZFS pool feature flags." (illumos, OpenZFS).
 * A pool's own version (what capabilities depend on) comes from `parseZpoolGet`.
 */
export function parsePoolVersionBanner(output: string): PoolVersion {
  const line = firstLine(output);
  if (/supports ZFS pool feature flags/.test(line)) return 'feature-flags';
  const m = /running ZFS pool version (\d+)/.exec(line);
  if (!m) throw new Error(`zpool upgrade -v: unrecognised first line ${JSON.stringify(line)}`);
  return Number(m[1]);
}

/**
 * The filesystem (ZPL) version the software supports, from the first line of `zfs upgrade`
 * (no arguments): "This system is currently running ZFS filesystem version 4." A stream of a
 * dataset with a newer version than the receiver's cannot be received.
 */
export function parseFilesystemVersionBanner(output: string): number {
  const line = firstLine(output);
  const m = /running ZFS filesystem version (\d+)/.exec(line);
  if (!m) throw new Error(`zfs upgrade: unrecognised first line ${JSON.stringify(line)}`);
  return Number(m[1]);
}

/** `zfs get`/`zfs list` stderr for a dataset that does not exist: "cannot open 'X': dataset does not exist". */
export function isMissingDataset(stderr: string, dataset: string): boolean {
  return stderr.includes(`cannot open '${dataset}': dataset does not exist`);
}

/**
 * Why `zfs receive` (without -F) refused a stream, from its stderr; undefined when the message
 * is not one of these. ZFS wraps long messages, so whitespace is normalised first.
 * - target-modified: "destination X has been modified since most recent snapshot" — the only
 *   modification check where the pool has no `written` property (zfs-fuse, pool v23).
 * - target-exists: "destination 'X' exists must specify -F to overwrite it" — a full stream
 *   into an existing dataset.
 * - base-mismatch: "most recent snapshot of X does not match incremental source".
 * - out-of-space: "cannot receive new filesystem stream: out of space" (or "incremental stream").
 */
export type ReceiveRefusal = 'target-modified' | 'target-exists' | 'base-mismatch' | 'out-of-space';

const REFUSALS: ReadonlyArray<[RegExp, ReceiveRefusal]> = [
  [/has been modified since most recent snapshot/, 'target-modified'],
  [/destination '?[^']*'? exists must specify -F/, 'target-exists'],
  [/most recent snapshot of .* does not match incremental source/, 'base-mismatch'],
  [/cannot receive .*: out of space/, 'out-of-space'],
];

export function classifyReceiveError(stderr: string): ReceiveRefusal | undefined {
  const text = stderr.replace(/\s+/g, ' ');
  return REFUSALS.find(([pattern]) => pattern.test(text))?.[1];
}
