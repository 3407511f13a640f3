/**
 * `esxi-zfs status`: per replicated dataset, its last replication run (age, result or failure),
 * whether one is running now, and its schedule's next run. Read from Temporal only: visibility for
 * the runs (search attributes `dataset` and `host` that replicateDataset carries), the run's close
 * event for its result, the schedule's description for the next run.
 */
import { SearchAttribute } from '../core/search-attributes';
import { formatBytes } from '../core/format';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { failureMessage } from './failure-message';
import { replicationJobs } from '../inventory/jobs';
import { progressQuery, replicationScheduleId, replicationWorkflowId, type ReplicationJob, type ReplicationProgress, type ReplicationResult } from '../core/replication/shared';
import type { Inventory } from '../inventory/schema';
import { describeSchedule, listSchedules, type ScheduleListing } from '../activities/schedules/control';
import { replicateDataset } from '../workflows';

/** What one closed run ended with. */
export interface RunSummary {
  workflowId: string;
  runId: string;
  type: string;
  /** COMPLETED, FAILED, TERMINATED, CANCELLED, TIMED_OUT, RUNNING, ... */
  status: string;
  startedAt: Date;
  closedAt?: Date;
  /** A replicateDataset result (or a scheduledReplication one that ran its child). */
  result?: ReplicationResult;
  /** A scheduledReplication that found a run in progress. */
  skipped?: string;
  /** Why it did not complete. */
  failure?: string;
}

export interface DatasetStatus {
  host: string;
  dataset: string;
  target?: string;
  workflowId: string;
  scheduleId: string;
  /** The newest closed replicateDataset run of the dataset. */
  last?: RunSummary;
  /** When the newest replicateDataset run that completed (among the last 20) ended. */
  lastSuccessAt?: Date;
  /** The inventory gives the dataset a schedule (a schedule missing from the namespace is a problem). */
  scheduleExpected: boolean;
  /** The replicateDataset run in progress, if any, and its phase when a worker answered the query. */
  running?: { workflowId: string; runId: string; startedAt: Date; phase?: ReplicationProgress['phase'] };
  /** The dataset's schedule; undefined when it has none in this namespace. */
  schedule?: {
    cron: string;
    timezone: string;
    paused: boolean;
    note?: string;
    nextRun?: Date;
    /** The longest gap between its next runs (up to 10 of them): how old a replication may be. */
    periodMs?: number;
    createdAt: Date;
    /** scheduledReplication runs of this schedule still open (one without a running child waits for a worker). */
    running: string[];
  };
}

export interface StatusOptions {
  /** How long to wait for a worker to answer the `progress` query of a running run (default 1.5 s). */
  queryTimeoutMs?: number;
  /** How many datasets to read at once (default 16). */
  concurrency?: number;
}

const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The visibility query of a dataset's replication runs. */
export function replicationRunsQuery(host: string, dataset: string): string {
  return `WorkflowType = ${quote(replicateDataset.name)} AND ${SearchAttribute.dataset.name} = ${quote(dataset)} AND ${SearchAttribute.host.name} = ${quote(host)}`;
}

/** Reads how a run ended: its result when it completed, its root failure otherwise. */
export async function readRun(client: Client, info: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'type' | 'status' | 'startTime' | 'closeTime'>): Promise<RunSummary> {
  const summary: RunSummary = {
    workflowId: info.workflowId,
    runId: info.runId,
    type: info.type,
    status: info.status.name,
    startedAt: info.startTime,
    closedAt: info.closeTime,
  };
  if (info.status.name === 'RUNNING') return summary;
  try {
    const value = (await client.workflow.getHandle(info.workflowId, info.runId, { followRuns: false }).result()) as unknown;
    if (value && typeof value === 'object' && 'skipped' in value) summary.skipped = String((value as { skipped: unknown }).skipped);
    else if (value && typeof value === 'object') summary.result = value as ReplicationResult;
  } catch (error) {
    summary.failure = failureMessage(error);
  }
  return summary;
}

/** Describes a workflow run by id (for a schedule's last action) and reads how it ended. */
export async function readRunById(client: Client, workflowId: string, runId?: string): Promise<RunSummary | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId, runId).describe();
    return await readRun(client, d);
  } catch {
    return undefined;
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** The longest gap between consecutive times (a schedule's next runs); undefined with fewer than two. */
export function longestGap(times: Date[]): number | undefined {
  const sorted = times.map((t) => t.getTime()).sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((t, i) => t - sorted[i]!);
  return gaps.length > 0 ? Math.max(...gaps) : undefined;
}

interface Subject {
  scheduleExpected: boolean;
  host: string;
  dataset: string;
  target?: string;
  workflowId: string;
  scheduleId: string;
  schedule?: ScheduleListing | null; // null: looked up, none
}

async function datasetStatus(client: Client, subject: Subject, opts: Required<StatusOptions>): Promise<DatasetStatus> {
  // Visibility on SQL stores sorts running first, then by close time: the first page holds the
  // newest runs. Sort by start time to be independent of the store.
  const runs: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query: replicationRunsQuery(subject.host, subject.dataset), pageSize: 20 })) {
    runs.push(info);
    if (runs.length >= 20) break;
  }
  runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  const runningInfo = runs.find((r) => r.status.name === 'RUNNING');
  const lastInfo = runs.find((r) => r.status.name !== 'RUNNING');
  const lastSuccessAt = runs.find((r) => r.status.name === 'COMPLETED')?.closeTime;

  let running: DatasetStatus['running'];
  if (runningInfo) {
    running = { workflowId: runningInfo.workflowId, runId: runningInfo.runId, startedAt: runningInfo.startTime };
    try {
      const handle = client.workflow.getHandle(runningInfo.workflowId, runningInfo.runId);
      const progress = await client.connection.withDeadline(Date.now() + opts.queryTimeoutMs, () => handle.query(progressQuery));
      running.phase = progress.phase;
    } catch {
      // no worker answered in time: the phase is unknown, the run is still in progress
    }
  }

  const schedule = subject.schedule === undefined ? await describeSchedule(client, subject.scheduleId) : subject.schedule ?? undefined;
  return {
    host: subject.host,
    dataset: subject.dataset,
    target: subject.target,
    workflowId: subject.workflowId,
    scheduleId: subject.scheduleId,
    last: lastInfo ? await readRun(client, lastInfo) : undefined,
    lastSuccessAt,
    scheduleExpected: subject.scheduleExpected,
    running,
    schedule: schedule && {
      cron: schedule.cron,
      timezone: schedule.timezone,
      paused: schedule.paused,
      note: schedule.note,
      nextRun: schedule.nextRuns[0],
      periodMs: longestGap(schedule.nextRuns),
      createdAt: schedule.createdAt,
      running: schedule.runningWorkflows.map((w) => w.workflowId),
    },
  };
}

/**
 * The status of every replicated dataset: those of `inventory` when given, else those that have a
 * replication schedule in the namespace.
 */
export async function replicationStatus(client: Client, inventory?: Inventory, options: StatusOptions = {}): Promise<DatasetStatus[]> {
  const opts: Required<StatusOptions> = { queryTimeoutMs: 1_500, concurrency: 16, ...options };
  let subjects: Subject[];
  if (inventory) {
    subjects = replicationJobs(inventory).map((job) => ({
      scheduleExpected: job.schedule !== undefined,
      host: job.source.host.name,
      dataset: job.source.dataset,
      target: `${job.target.host.name}:${job.target.dataset}`,
      workflowId: replicationWorkflowId(job),
      scheduleId: replicationScheduleId(job),
    }));
  } else {
    subjects = (await listSchedules(client)).map((s) => ({
      scheduleExpected: true,
      host: s.host,
      dataset: s.dataset,
      target: s.target,
      workflowId: replicationWorkflowId({ source: { host: { name: s.host }, dataset: s.dataset } } as ReplicationJob),
      scheduleId: s.scheduleId,
      schedule: s,
    }));
  }
  return mapLimit(subjects, opts.concurrency, (s) => datasetStatus(client, s, opts));
}

// ---------------------------------------------------------------------------------------------
// formatting

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const s = Math.round(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  if (m < 48 * 60) return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(m / 1440)}d${String(Math.floor((m % 1440) / 60)).padStart(2, '0')}h`;
}

/** "3h05m ago", "in 20h" */
export function formatRelative(at: Date, now: Date): string {
  const ms = at.getTime() - now.getTime();
  return ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
}

/** A time as read in `timeZone`: "2026-11-25 23:59 CST". */
export function formatInZone(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
    }).formatToParts(at).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** How a run ended, in a few words. */
export function describeOutcome(run: RunSummary): string {
  if (run.status === 'RUNNING') return 'running';
  if (run.skipped) return `skipped: ${run.skipped}`;
  if (run.result) {
    const r = run.result;
    return `${r.kind}${r.kind === 'up-to-date' ? '' : ` ${formatBytes(r.bytes)}`} in ${formatDuration(r.durationMs)}${r.warnings?.length ? ` (${r.warnings.length} warning(s))` : ''}`;
  }
  if (run.failure) return `${run.status.toLowerCase()}: ${run.failure}`;
  return run.status.toLowerCase();
}

export function formatStatusTable(rows: DatasetStatus[], now = new Date()): string {
  if (rows.length === 0) return 'no replicated datasets (no inventory given and no replication schedule in this namespace)';
  const header = ['DATASET', 'TARGET', 'LAST RUN', 'RESULT', 'BYTES', 'TOOK', 'NOW', 'NEXT RUN'];
  const body = rows.map((row) => {
    const last = row.last;
    const when = last ? formatRelative(last.closedAt ?? last.startedAt, now) : 'never';
    const result = !last ? '-' : last.status === 'COMPLETED' ? (last.skipped ? 'skipped' : last.result?.kind ?? 'completed') : last.status.toLowerCase();
    const bytes = last?.result ? formatBytes(last.result.bytes) : '-';
    const took = last?.result ? formatDuration(last.result.durationMs) : last?.closedAt ? formatDuration(last.closedAt.getTime() - last.startedAt.getTime()) : '-';
    const nowCell = row.running
      ? `running${row.running.phase ? ` (${row.running.phase})` : ''} ${formatDuration(now.getTime() - row.running.startedAt.getTime())}`
      : row.schedule?.running.length
        ? 'scheduled run open, no replication yet (worker down?)'
        : 'idle';
    const s = row.schedule;
    const next = !s ? 'no schedule' : s.paused ? `paused${s.note ? ` (${s.note})` : ''}` : s.nextRun ? `${formatInZone(s.nextRun, s.timezone)} (${formatRelative(s.nextRun, now)})` : '-';
    return [`${row.host}:${row.dataset}`, row.target ?? '?', when, result, bytes, took, nowCell, next];
  });
  const failures = rows
    .filter((r) => r.last?.failure)
    .map((r) => `  ${r.host}:${r.dataset}: ${r.last!.status.toLowerCase()}: ${r.last!.failure}`);
  return [renderTable(header, body), ...(failures.length ? ['', 'failures:', ...failures] : [])].join('\n');
}

/** Plain JSON objects (ISO times, age in ms) for `status --json`. */
export function statusToJson(rows: DatasetStatus[], now = new Date()): object[] {
  const iso = (d?: Date) => d?.toISOString();
  return rows.map((row) => ({
    host: row.host,
    dataset: row.dataset,
    target: row.target,
    workflowId: row.workflowId,
    scheduleId: row.scheduleId,
    last: row.last && {
      workflowId: row.last.workflowId,
      runId: row.last.runId,
      status: row.last.status,
      startedAt: iso(row.last.startedAt),
      closedAt: iso(row.last.closedAt),
      ageMs: now.getTime() - (row.last.closedAt ?? row.last.startedAt).getTime(),
      kind: row.last.result?.kind,
      bytes: row.last.result?.bytes,
      durationMs: row.last.result?.durationMs,
      snapshot: row.last.result?.snapshot,
      skipped: row.last.skipped,
      failure: row.last.failure,
    },
    lastSuccessAt: iso(row.lastSuccessAt),
    lastSuccessAgeMs: row.lastSuccessAt && now.getTime() - row.lastSuccessAt.getTime(),
    inProgress: row.running !== undefined,
    scheduledRunOpen: (row.schedule?.running.length ?? 0) > 0,
    running: row.running && { workflowId: row.running.workflowId, runId: row.running.runId, startedAt: iso(row.running.startedAt), phase: row.running.phase },
    schedule: row.schedule
      ? {
        cron: row.schedule.cron,
        timezone: row.schedule.timezone,
        paused: row.schedule.paused,
        note: row.schedule.note,
        nextRun: iso(row.schedule.nextRun),
        periodMs: row.schedule.periodMs,
        createdAt: iso(row.schedule.createdAt),
        running: row.schedule.running,
      }
      : null,
    scheduleExpected: row.scheduleExpected,
  }));
}
