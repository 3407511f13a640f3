/**
 * Names of the snapshots this product takes: `${prefix}_YYYYMMDDTHHMMSSZ`, e.g.
 * `esxi-zfs_20261125T235900Z`.
 *
 * - UTC, so names from hosts in different time zones (the runbook's cron ran in CST6DST) agree.
 * - Basic ISO 8601 (no `:`): legal in ZFS names but awkward in shells and some tools.
 * - Sorts by time as plain text; one name per second.
 * - The prefix says it is ours: retention prunes only names that parse exactly as this format.
 */
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const PREFIX_MAX = 64;
const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function checkPrefix(prefix: string): void {
  if (prefix.length > PREFIX_MAX || !PREFIX.test(prefix)) {
    throw new Error(
      `snapshot prefix ${JSON.stringify(prefix)} must match ${PREFIX.source} and be at most ${PREFIX_MAX} characters`,
    );
  }
}

export function snapshotName(prefix: string, date: Date): string {
  checkPrefix(prefix);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 0 || year > 9999) {
    throw new Error(`snapshotName: ${String(date)} is not a date with a four-digit year`);
  }
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp =
    String(year).padStart(4, '0') +
    two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) +
    'T' +
    two(date.getUTCHours()) +
    two(date.getUTCMinutes()) +
    two(date.getUTCSeconds()) +
    'Z';
  return `${prefix}_${stamp}`;
}

/** The time written in one of our names; undefined when `name` is not exactly ours. */
export function parseOurTime(prefix: string, name: string): Date | undefined {
  checkPrefix(prefix);
  if (!name.startsWith(`${prefix}_`)) return undefined;
  const m = STAMP.exec(name.slice(prefix.length + 1));
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number, number, number, number, number, number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year); // Date.UTC maps years 0-99 to 1900-1999
  // Reject what Date would silently roll over (Nov 31, 24:00, ...).
  return snapshotName(prefix, date) === name ? date : undefined;
}

export function isOurs(prefix: string, name: string): boolean {
  return parseOurTime(prefix, name) !== undefined;
}

/**
 * When a snapshot was taken: the time in its name when it is ours (the workflow's clock, which took
 * it), else its `creation` (the clock of the host that took it, which may be hours off).
 */
export function takenAt(prefix: string, snapshot: { name: string; creation: number }): Date {
  return parseOurTime(prefix, snapshot.name) ?? new Date(snapshot.creation * 1000);
}
