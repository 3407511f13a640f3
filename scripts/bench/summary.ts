/** What the report is made of: the medians, ratios' denominators and run sets of the text and the JSON report. */
import { median } from './numbers';
import type { Results } from './results';
import type { WorkflowRun } from './workflow-runs';

type Phase = 'full' | 'incremental' | 'no-change';

/** Runs in which no activity was retried: what the product does when its SSH layer does not trip. */
export const clean = (runs: WorkflowRun[]) => runs.filter((w) => w.breakdown.activities.every((a) => a.attempt === 1));
export const secondsOf = (runs: WorkflowRun[]) => runs.map((w) => w.seconds);

/** The medians and run sets both the text and the JSON report are made of. */
export function summarize(res: Results) {
  const wf = { full: res.workflowRuns.full, incremental: res.workflowRuns.incremental, noChange: res.workflowRuns.noChange };
  // The stream alone, as sendSnapshot timed it (runs without retries: a retried send that finds the
  // snapshot already received reports no stream).
  const streamOf = (runs: WorkflowRun[]) => clean(runs).map((w) => w.breakdown.streamMs / 1000);
  const sweepRawSum = res.sweep ? res.sweep.rawSeconds.reduce((a, b) => a + b, 0) : NaN;
  return {
    rawFull: median(res.full.raw),
    rawInc: median(res.incremental.raw),
    rawNo: median(res.rawNoChange),
    noChange: median(res.workflowRuns.noChange.map((w) => w.seconds)),
    warmInc: median(secondsOf(res.warmRuns.incremental)),
    warmNo: median(secondsOf(res.warmRuns.noChange)),
    stockFailed: res.syncoidStockIncremental.some((s) => !s.ok),
    wf,
    retried: { full: wf.full.length - clean(wf.full).length, incremental: wf.incremental.length - clean(wf.incremental).length, noChange: wf.noChange.length - clean(wf.noChange).length },
    streamFull: streamOf(wf.full),
    streamInc: streamOf(wf.incremental),
    sweepRawSum,
    picked: medianRuns(wf),
  };
}

export type Summary = ReturnType<typeof summarize>;

/** Per phase, the median run (of those without retries when there are any): the one whose breakdown is shown. */
function medianRuns(wf: { full: WorkflowRun[]; incremental: WorkflowRun[]; noChange: WorkflowRun[] }) {
  const medianRun = (runs: WorkflowRun[]) => [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)];
  const picked: Record<Phase, { run: WorkflowRun; withoutRetries: boolean } | undefined> = { full: undefined, incremental: undefined, 'no-change': undefined };
  for (const [phase, runs] of [['full', wf.full], ['incremental', wf.incremental], ['no-change', wf.noChange]] as const) {
    const withoutRetries = clean(runs);
    const run = medianRun(withoutRetries.length > 0 ? withoutRetries : runs);
    picked[phase] = run && { run, withoutRetries: withoutRetries.length > 0 };
  }
  return picked;
}
