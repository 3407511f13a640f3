/**
 * What differs between a replication schedule on the server and the one the inventory asks for.
 * The server returns compiled calendars, not the cron text it was sent: the spec is compared by the
 * sets of values each calendar field matches (see crontab.ts).
 */
import type { ScheduleDescription } from '@temporalio/client';
import { extractWorkflowType, type SearchAttributePair, type TypedSearchAttributes } from '@temporalio/common';
import { calendarFieldSets, calendarToCron, cronFieldSets } from './crontab';
import type { DesiredSchedule } from './desired';

/** JSON with sorted keys and no undefined: equal values give equal text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

const sameSet = (a: string[], b: string[]) => canonicalJson([...a].sort()) === canonicalJson([...b].sort());

type Pairs = SearchAttributePair[] | TypedSearchAttributes | undefined;

function pairsText(pairs: Pairs): string[] {
  const list = pairs === undefined ? [] : Array.isArray(pairs) ? pairs : pairs.getAll();
  return list.map((p) => canonicalJson({ name: p.key.name, type: p.key.type, value: p.value }));
}

/**
 * What differs between the schedule on the server and the desired one (empty: nothing to update).
 * The pause state is not compared here (see DesiredSchedule.paused).
 */
export function scheduleDifferences(desired: DesiredSchedule, actual: ScheduleDescription): string[] {
  const out: string[] = [];
  const want = desired.options;

  // spec: compiled calendars, compared by the sets of values they match
  const wantCalendars = (want.spec.cronExpressions ?? []).map((c) => canonicalJson(cronFieldSets(c)));
  const haveCalendars = (actual.spec.calendars ?? []).map((c) => canonicalJson(calendarFieldSets(c)));
  const haveCron = (actual.spec.calendars ?? []).map(calendarToCron).join(' | ') || 'none';
  if (!sameSet(wantCalendars, haveCalendars)) out.push(`cron: ${haveCron} -> ${(want.spec.cronExpressions ?? []).join(' | ')}`);
  if ((actual.spec.timezone ?? '') !== (want.spec.timezone ?? '')) out.push(`timezone: ${actual.spec.timezone || 'none'} -> ${want.spec.timezone}`);
  if ((actual.spec.intervals ?? []).length > 0) out.push('intervals: set on the server, not in the inventory');
  if ((actual.spec.skip ?? []).length > 0) out.push('skip calendars: set on the server, not in the inventory');
  if (actual.spec.startAt || actual.spec.endAt) out.push('start/end time: set on the server, not in the inventory');
  if (actual.spec.jitter) out.push('jitter: set on the server, not in the inventory');

  // action
  const wa = want.action;
  const aa = actual.action;
  if (aa.workflowType !== extractWorkflowType(wa.workflowType)) out.push(`workflow type: ${aa.workflowType} -> ${extractWorkflowType(wa.workflowType)}`);
  if (aa.workflowId !== wa.workflowId) out.push(`workflow id: ${aa.workflowId} -> ${wa.workflowId}`);
  if (aa.taskQueue !== wa.taskQueue) out.push(`task queue: ${aa.taskQueue} -> ${wa.taskQueue}`);
  if ((aa.staticSummary ?? '') !== (wa.staticSummary ?? '')) out.push(`summary: ${aa.staticSummary ?? 'none'} -> ${wa.staticSummary}`);
  const wantArgs = JSON.parse(JSON.stringify(wa.args ?? [])) as unknown[];
  if (canonicalJson(aa.args) !== canonicalJson(wantArgs)) {
    const have = (aa.args?.[0] ?? {}) as Record<string, unknown>;
    const want = (wantArgs[0] ?? {}) as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(have), ...Object.keys(want)])].filter((k) => canonicalJson(have[k]) !== canonicalJson(want[k]));
    out.push(`job: ${keys.sort().join(', ') || 'arguments'} differ${keys.length === 1 ? 's' : ''} from the inventory`);
  }
  const wantPairs = pairsText(wa.typedSearchAttributes);
  const havePairs = pairsText(aa.typedSearchAttributes);
  if (!sameSet(wantPairs, havePairs)) out.push('search attributes differ');
  if (!sameSet(pairsText(want.typedSearchAttributes), pairsText(actual.typedSearchAttributes))) out.push("the schedule's search attributes differ");
  if (aa.retry || aa.workflowExecutionTimeout || aa.workflowRunTimeout || aa.workflowTaskTimeout) {
    out.push('retry/timeouts: set on the server, not in the inventory');
  }

  // policies
  const wp = want.policies!;
  if (actual.policies.overlap !== wp.overlap) out.push(`overlap: ${actual.policies.overlap} -> ${wp.overlap}`);
  if (actual.policies.catchupWindow !== wp.catchupWindow) out.push(`catchup window: ${actual.policies.catchupWindow} ms -> ${String(wp.catchupWindow)} ms`);
  if (actual.policies.pauseOnFailure !== wp.pauseOnFailure) out.push(`pause on failure: ${actual.policies.pauseOnFailure} -> ${wp.pauseOnFailure}`);
  return out;
}
