/** The benchmark's --json report: one object, its keys and their order as the report tools read them. */
import { benchStarted } from './log';
import { median, MiB, round, secs } from './numbers';
import type { BenchOptions } from './options';
import type { Results } from './results';
import type { RetryLog } from './retries';
import { clean, secondsOf, type Summary } from './summary';
import { TOOLS } from './tools';
import type { WorkflowRun } from './workflow-runs';

/** A workflow run's time, split as history.ts splits it, in seconds. */
function runBreakdownJson(w: WorkflowRun | undefined) {
  return w && {
    seconds: round(w.seconds), streamSeconds: round(secs(w.breakdown.streamMs)), activitiesRunningSeconds: round(secs(w.breakdown.activityRunningMs)),
    orchestrationSeconds: round(secs(w.breakdown.orchestrationMs)), clientOverheadSeconds: round(secs(w.breakdown.startLatencyMs + w.breakdown.resultLatencyMs)),
    events: w.breakdown.events,
    activities: w.breakdown.activities.map((a) => ({ name: a.name, queuedSeconds: round(secs((a.startedMs ?? NaN) - a.scheduledMs)), ranSeconds: round(secs((a.closedMs ?? NaN) - (a.startedMs ?? NaN))), ...(a.streamMs !== undefined ? { streamSeconds: round(secs(a.streamMs)) } : {}) })),
  };
}

/** The tools' ratios to raw (and the workflow's to raw with the product's pipes). */
function ratios(res: Results, s: Summary) {
  const m = median;
  const { rawFull, rawInc } = s;
  return {
    rawPipes: { fullRatio: round(m(res.full.rawPipes) / rawFull), incrementalRatio: round(m(res.incremental.rawPipes) / rawInc) },
    workflowToRawPipes: { fullRatio: round(m(res.full.workflow) / m(res.full.rawPipes)), incrementalRatio: round(m(res.incremental.workflow) / m(res.incremental.rawPipes)) },
    rawSshDefault: { fullRatio: round(m(res.full.rawDefault) / rawFull), incrementalRatio: round(m(res.incremental.rawDefault) / rawInc) },
    syncoid: {
      fullRatio: round(m(res.full.syncoid) / rawFull),
      incrementalRatio: s.stockFailed ? null : round(m(res.incremental.syncoid) / rawInc),
      incrementalRatioWithFallbackFix: round(m(res.incremental.syncoid) / rawInc),
      stockIncrementalWorks: !s.stockFailed,
      notes: [...res.syncoidMessages, ...(s.stockFailed ? [`stock incremental fails: ${res.syncoidStockIncremental.find((r) => !r.ok)?.error}`] : [])],
    },
  };
}

function sweepJson(res: Results, s: Summary, retries: RetryLog) {
  const sweep = res.sweep;
  return sweep && {
    datasets: sweep.datasets,
    seconds: round(sweep.seconds),
    rawSumSeconds: round(s.sweepRawSum),
    ratio: round(sweep.seconds / s.sweepRawSum),
    workerPeakRssMiB: round(sweep.workerPeakRss / MiB, 1),
    failures: sweep.failures.length,
    runSecondsMedian: round(median(sweep.runSeconds)),
    runSecondsMax: round(Math.max(...sweep.runSeconds)),
    activityRetries: retries.entries.filter((r) => r.startsWith('sweep ')).length,
    maxHistoryEvents: sweep.maxEvents,
  };
}

export function reportJson(res: Results, s: Summary, options: BenchOptions, retries: RetryLog, notes: string[]) {
  const m = median;
  const { rawFull, rawInc, wf, streamFull, streamInc } = s;
  const allRuns = [...res.workflowRuns.full, ...res.workflowRuns.incremental, ...res.workflowRuns.noChange];
  const { rawPipes, workflowToRawPipes, rawSshDefault, syncoid } = ratios(res, s);
  return {
    date: res.facts.date,
    machine: res.facts,
    sizeMiB: options.sizeMiB,
    referencedMiB: round(res.referencedBytes / MiB, 1),
    changeMiB: options.changeMiB,
    runs: res.runsDone,
    fullRatio: round(m(res.full.workflow) / rawFull),
    incrementalRatio: round(m(res.incremental.workflow) / rawInc),
    noChangeSeconds: round(s.noChange),
    sharedConnectionOpen: {
      incrementalRatio: round(s.warmInc / rawInc),
      noChangeSeconds: round(s.warmNo),
      incremental: secondsOf(res.warmRuns.incremental).map((x) => round(x)),
      noChange: secondsOf(res.warmRuns.noChange).map((x) => round(x)),
    },
    withoutRetries: {
      fullRatio: round(m(secondsOf(clean(wf.full))) / rawFull),
      incrementalRatio: round(m(secondsOf(clean(wf.incremental))) / rawInc),
      noChangeSeconds: round(m(secondsOf(clean(wf.noChange)))),
      runsWithRetries: s.retried,
    },
    streamRatio: { full: round(m(streamFull) / rawFull), incremental: round(m(streamInc) / rawInc) },
    rawNoChangeSeconds: round(s.rawNo),
    seconds: {
      full: Object.fromEntries(TOOLS.map((t) => [t, res.full[t].map((x) => round(x))])),
      incremental: Object.fromEntries(TOOLS.map((t) => [t, res.incremental[t].map((x) => round(x))])),
      workflowStream: { full: streamFull.map((x) => round(x)), incremental: streamInc.map((x) => round(x)) },
      noChange: { workflow: res.workflowRuns.noChange.map((w) => round(w.seconds)), raw: res.rawNoChange.map((x) => round(x)) },
      rawSnapshot: res.rawSnapshotSeconds.map((x) => round(x)),
    },
    rawPipes,
    workflowToRawPipes,
    rawSshDefault,
    syncoid,
    sweep: sweepJson(res, s, retries),
    worker: { startRssMiB: round(res.workerStartRss / MiB, 1), rssBeforeSweepMiB: round(res.workerRssBeforeSweep / MiB, 1), peakRssMiB: round(res.workerPeakRss / MiB, 1), vmHwmMiB: round(res.workerHwm / MiB, 1) },
    maxHistoryEvents: Math.max(...allRuns.map((w) => w.breakdown.events)),
    activityRetries: retries.entries.length,
    retryReasons: Object.fromEntries(retries.reasons()),
    breakdown: { full: runBreakdownJson(s.picked.full?.run), incremental: runBreakdownJson(s.picked.incremental?.run), noChange: runBreakdownJson(s.picked['no-change']?.run) },
    notes,
    totalSeconds: round((Date.now() - benchStarted) / 1000, 1),
  };
}
