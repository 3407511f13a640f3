/**
 * Where a replicateDataset run's time goes, read from its workflow history (event timestamps):
 * per activity its queue time (scheduled -> started) and run time (started -> closed; local
 * activities from their markers: scheduled -> completed, run inside a workflow task), the stream
 * time sendSnapshot itself measured (its result's durationMs), and the rest: orchestration (workflow
 * tasks, dispatch) and the client's own round trips.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActivitySpan {
  name: string;
  attempt: number;
  scheduledMs: number;
  startedMs?: number;
  closedMs?: number;
  outcome: 'completed' | 'failed' | 'timed-out' | 'cancelled' | 'open';
  /** A local activity: run by the worker inside a workflow task, recorded as a marker. */
  local?: boolean;
  /** sendSnapshot only: the stream time it measured itself (zfs send | counter | ssh | zfs receive). */
  streamMs?: number;
  /** For a retried activity: why the previous attempt failed. */
  lastFailure?: string;
}

export interface RunBreakdown {
  events: number;
  /** Client: start call issued -> result in hand. */
  clientMs: number;
  /** Client start call -> WorkflowExecutionStarted. */
  startLatencyMs: number;
  /** WorkflowExecutionStarted -> WorkflowExecution{Completed,Failed,...}. */
  workflowMs: number;
  /** Workflow closed -> result in the client's hands. */
  resultLatencyMs: number;
  activities: ActivitySpan[];
  /** Union of every activity's running interval. */
  activityRunningMs: number;
  /** Stream time sendSnapshot measured itself (summed over its completed attempts). */
  streamMs: number;
  /** workflowMs minus the union of running activities: workflow tasks, dispatch, queueing, retry backoff. */
  orchestrationMs: number;
  /** Sum over workflow tasks of scheduled -> completed. */
  workflowTaskMs: number;
}

function ms(ts: HistoryEvent['eventTime']): number {
  if (!ts) return NaN;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : Number(ts.seconds ?? 0);
  return seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

const id = (v: unknown): string => String(v);

function payloadJson(payloads: temporal.api.common.v1.IPayloads | null | undefined): unknown {
  const data = payloads?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The JSON core-sdk records for a local activity (marker "core_local_activity", details.data). */
interface LocalActivityMarker {
  activity_type?: string;
  attempt?: number;
  original_schedule_time?: { seconds?: number; nanos?: number };
}

/**
 * A local activity's span: from its schedule time to its marker, which is written when the workflow
 * task that ran it completes (the marker's own times are workflow time, not wall time).
 */
function localActivitySpan(e: HistoryEvent): ActivitySpan | undefined {
  const marker = e.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const data = payloadJson(marker.details?.data) as LocalActivityMarker | undefined;
  if (!data?.activity_type) return undefined;
  const t = data.original_schedule_time;
  const scheduledMs = t ? (t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN;
  return { name: data.activity_type, attempt: data.attempt ?? 1, scheduledMs, startedMs: scheduledMs, closedMs: ms(e.eventTime), outcome: marker.failure ? 'failed' : 'completed', local: true };
}

function unionMs(intervals: [number, number][]): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  let start = -Infinity;
  for (const [a, b] of sorted) {
    if (a > end) {
      if (end > start) total += end - start;
      start = a;
      end = b;
    } else if (b > end) {
      end = b;
    }
  }
  if (end > start) total += end - start;
  return total;
}

export function breakdown(events: HistoryEvent[], clientStartMs: number, clientEndMs: number): RunBreakdown {
  const spans = new Map<string, ActivitySpan>();
  const wftScheduled = new Map<string, number>();
  let wftMs = 0;
  let startedAt = NaN;
  let closedAt = NaN;
  for (const e of events) {
    const t = ms(e.eventTime);
    const eventId = id(e.eventId);
    if (e.workflowExecutionStartedEventAttributes) startedAt = t;
    if (
      e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes ||
      e.workflowExecutionCanceledEventAttributes || e.workflowExecutionTerminatedEventAttributes ||
      e.workflowExecutionTimedOutEventAttributes
    ) closedAt = t;
    if (e.workflowTaskScheduledEventAttributes) wftScheduled.set(eventId, t);
    if (e.workflowTaskCompletedEventAttributes) {
      const s = wftScheduled.get(id(e.workflowTaskCompletedEventAttributes.scheduledEventId));
      if (s !== undefined) wftMs += t - s;
    }
    const local = localActivitySpan(e);
    if (local) spans.set(eventId, local);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) spans.set(eventId, { name: scheduled.activityType?.name ?? '?', attempt: 1, scheduledMs: t, outcome: 'open' });
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const span = spans.get(id(started.scheduledEventId));
      if (span) {
        span.startedMs = t;
        span.attempt = started.attempt ?? 1;
        if (started.lastFailure?.message) span.lastFailure = started.lastFailure.message;
      }
    }
    const closes: [ActivitySpan['outcome'], { scheduledEventId?: unknown } | null | undefined][] = [
      ['completed', e.activityTaskCompletedEventAttributes],
      ['failed', e.activityTaskFailedEventAttributes],
      ['timed-out', e.activityTaskTimedOutEventAttributes],
      ['cancelled', e.activityTaskCanceledEventAttributes],
    ];
    for (const [outcome, attrs] of closes) {
      if (!attrs) continue;
      const span = spans.get(id(attrs.scheduledEventId));
      if (!span) continue;
      span.closedMs = t;
      span.outcome = outcome;
      if (outcome === 'completed' && span.name === 'sendSnapshot') {
        const result = payloadJson(e.activityTaskCompletedEventAttributes?.result) as { durationMs?: number } | undefined;
        if (typeof result?.durationMs === 'number') span.streamMs = result.durationMs;
      }
    }
  }
  const activities = [...spans.values()].sort((a, b) => a.scheduledMs - b.scheduledMs);
  const running = activities.flatMap((a) => (a.startedMs !== undefined && a.closedMs !== undefined ? [[a.startedMs, a.closedMs] as [number, number]] : []));
  const activityRunningMs = unionMs(running);
  const workflowMs = closedAt - startedAt;
  return {
    events: events.length,
    clientMs: clientEndMs - clientStartMs,
    startLatencyMs: startedAt - clientStartMs,
    workflowMs,
    resultLatencyMs: clientEndMs - closedAt,
    activities,
    activityRunningMs,
    streamMs: activities.reduce((n, a) => n + (a.streamMs ?? 0), 0),
    orchestrationMs: workflowMs - activityRunningMs,
    workflowTaskMs: wftMs,
  };
}

const s = (value: number) => (value / 1000).toFixed(3);

/** A few indented lines: where the run's time went. */
export function describeBreakdown(b: RunBreakdown): string[] {
  const lines = [
    `client ${s(b.clientMs)} s = start call ${s(b.startLatencyMs)} + workflow ${s(b.workflowMs)} + result ${s(b.resultLatencyMs)}; ${b.events} history events`,
    `workflow ${s(b.workflowMs)} s = activities running ${s(b.activityRunningMs)} + no activity running ${s(b.orchestrationMs)} (workflow tasks ${s(b.workflowTaskMs)} summed; the rest dispatch, queueing, retry backoff)`,
  ];
  const t0 = b.activities[0]?.scheduledMs ?? 0;
  for (const a of b.activities) {
    const queued = a.startedMs !== undefined ? a.startedMs - a.scheduledMs : NaN;
    const ran = a.startedMs !== undefined && a.closedMs !== undefined ? a.closedMs - a.startedMs : NaN;
    const extra = a.streamMs !== undefined
      ? ` (stream ${s(a.streamMs)}, checks around it ${s(ran - a.streamMs)})`
      : a.local ? ' (until its workflow task completed)' : '';
    const attempt = a.attempt > 1 ? ` attempt ${a.attempt}` : '';
    lines.push(`  +${s(a.scheduledMs - t0)}  ${(a.local ? `${a.name} (local)` : a.name).padEnd(30)} queued ${s(queued)}  ran ${s(ran)}${extra}${attempt}${a.outcome === 'completed' ? '' : ` ${a.outcome}`}`);
    if (a.lastFailure) lines.push(`           (attempt ${a.attempt - 1} failed: ${a.lastFailure.split('\n').join(' | ').slice(0, 400)})`);
  }
  return lines;
}
