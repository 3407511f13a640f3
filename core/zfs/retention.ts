/**
 * Retention as data: which of one dataset's snapshots to keep and which to destroy.
 *
 * Invariants:
 * 1. Only our snapshots (named `${prefix}_YYYYMMDDTHHMMSSZ`, see snapshot-name.ts) are ever
 *    pruned; every other snapshot is kept.
 * 2. Never pruned: protected guids (the newest common base with the target), held snapshots
 *    (userrefs > 0), and the newest of ours.
 * 3. No rules at all: nothing is pruned.
 * 4. "Newest" is by createtxg (the pool's own order). Calendar periods are UTC and come from the
 *    time in our name (the workflow's clock when it took the snapshot).
 * 5. Periods count back over the periods that have snapshots, not from `now` (like sanoid): if
 *    snapshots stop for two weeks, `daily: 7` still keeps the last 7 days that have one.
 * 6. A name time after `now` (a clock that was wrong) is kept and not counted by any rule, so
 *    it cannot push real snapshots out of their periods.
 * Each rule keeps, independently; a snapshot kept by any rule is kept.
 */
import { byCreatetxg, type Snapshot } from './snapshot';
import { parseOurTime } from './snapshot-name';

export type RetentionRules = {
  /** The newest N of ours. */
  keep?: number;
  /** The newest snapshot in each of the N most recent UTC hours that have one. */
  hourly?: number;
  /** ... UTC days ... */
  daily?: number;
  /** ... ISO 8601 weeks (Monday to Sunday, UTC) ... */
  weekly?: number;
  /** ... UTC calendar months ... */
  monthly?: number;
};

export type RetentionInput = {
  snapshots: Snapshot[];
  prefix: string;
  rules: RetentionRules;
  /** Guids never to prune: the newest common base, anything else the caller must keep. */
  protect: string[];
  now: Date;
};

/** `keep` and `prune` are oldest first; `reasons` is keyed by snapshot name (after `@`). */
export type RetentionPlan = { keep: Snapshot[]; prune: Snapshot[]; reasons: Record<string, string> };

type Period = 'hourly' | 'daily' | 'weekly' | 'monthly';

const two = (n: number) => String(n).padStart(2, '0');
const day = (t: Date) => `${String(t.getUTCFullYear()).padStart(4, '0')}-${two(t.getUTCMonth() + 1)}-${two(t.getUTCDate())}`;

function isoWeek(t: Date): string {
  const date = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());
  const mondayBased = (t.getUTCDay() + 6) % 7;
  // The ISO week belongs to the year of its Thursday; week 1 holds the year's first Thursday.
  const thursday = new Date(date + (3 - mondayBased) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return `${String(year).padStart(4, '0')}-W${two(week)}`;
}

/** Period keys sort as text in time order. */
const PERIOD_KEY: Record<Period, (t: Date) => string> = {
  hourly: (t) => `${day(t)}T${two(t.getUTCHours())}`,
  daily: day,
  weekly: isoWeek,
  monthly: (t) => day(t).slice(0, 7),
};

const RULE_ORDER = ['keep', 'hourly', 'daily', 'weekly', 'monthly'] as const;

export function planRetention(input: RetentionInput): RetentionPlan {
  const { prefix, rules, now } = input;
  const rulesSet = RULE_ORDER.filter((r) => rules[r] !== undefined);
  for (const r of RULE_ORDER) {
    const n = rules[r];
    if (n !== undefined && !(Number.isSafeInteger(n) && n >= 0)) throw new Error(`retention rule ${r}: ${n} is not a count`);
  }
  const datasets = new Set(input.snapshots.map((s) => s.dataset));
  if (datasets.size > 1) throw new Error(`planRetention: snapshots span datasets ${[...datasets].join(', ')}`);

  const snapshots = [...input.snapshots].sort(byCreatetxg);
  const protect = new Set(input.protect);
  const reasons = new Map<Snapshot, string[]>(snapshots.map((s) => [s, []]));
  const keepFor = (s: Snapshot, reason: string) => reasons.get(s)?.push(reason);

  const ours: { snapshot: Snapshot; time: Date }[] = [];
  for (const s of snapshots) {
    const time = parseOurTime(prefix, s.name);
    if (!time) keepFor(s, `not ours (not named ${prefix}_YYYYMMDDTHHMMSSZ)`);
    else ours.push({ snapshot: s, time });
    if (protect.has(s.guid)) keepFor(s, 'protected');
    if (s.userrefs > 0) keepFor(s, `held (${s.userrefs} hold${s.userrefs === 1 ? '' : 's'})`);
  }
  const newestOurs = ours[ours.length - 1];
  if (newestOurs) keepFor(newestOurs.snapshot, 'newest of ours');

  if (rulesSet.length === 0) {
    for (const { snapshot } of ours) keepFor(snapshot, 'no retention rules');
  }
  // What the rules count, newest first.
  const counted: typeof ours = [];
  for (const entry of [...ours].reverse()) {
    if (entry.time.getTime() <= now.getTime()) counted.push(entry);
    else keepFor(entry.snapshot, 'named with a time after now (clock skew?): not counted by rules');
  }

  if (rules.keep !== undefined) {
    counted.slice(0, rules.keep).forEach(({ snapshot }, i) => keepFor(snapshot, `keep: ${i + 1} of newest ${rules.keep}`));
  }
  for (const period of ['hourly', 'daily', 'weekly', 'monthly'] as const) {
    const n = rules[period];
    if (n === undefined) continue;
    // First seen while walking newest first = newest of its period.
    const newestOfPeriod = new Map<string, Snapshot>();
    for (const { snapshot, time } of counted) {
      const key = PERIOD_KEY[period](time);
      if (!newestOfPeriod.has(key)) newestOfPeriod.set(key, snapshot);
    }
    const recent = [...newestOfPeriod].sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0)).slice(0, n);
    for (const [key, snapshot] of recent) keepFor(snapshot, `${period}: newest of ${key}`);
  }

  const described = rulesSet.map((r) => `${r} ${rules[r]}`).join(', ');
  const keep: Snapshot[] = [];
  const prune: Snapshot[] = [];
  for (const [s, why] of reasons) {
    if (why.length > 0) keep.push(s);
    else {
      prune.push(s);
      why.push(`ours, not kept by rules (${described})`);
    }
  }
  return { keep, prune, reasons: Object.fromEntries([...reasons].map(([s, why]) => [s.name, why.join('; ')])) };
}
