/**
 * The benchmark's report on stdout: the table of tools and phases (median seconds, ratio to raw,
 * every run), the sweep, retries, worker memory, where the workflow's time went, notes; with
 * --json, one JSON object on the last line (report-json.ts).
 */
import { describeBreakdown, type RunBreakdown } from './history';
import { median, MiB } from './numbers';
import type { BenchOptions } from './options';
import { reportJson } from './report-json';
import type { Results } from './results';
import type { RetryLog } from './retries';
import { clean, secondsOf, summarize, type Summary } from './summary';

type Row = [string, string, number, number[], number | null];

const row = (tool: string, phase: string, runs: number[], raw: number): Row => [tool, phase, median(runs), runs, median(runs) / raw];

/** The rows of a phase every tool runs (full, incremental), each against raw's median. */
function transferRows(phase: 'full' | 'incremental', res: Results, s: Summary): Row[] {
  const runs = res[phase];
  const raw = phase === 'full' ? s.rawFull : s.rawInc;
  const unretried = secondsOf(clean(s.wf[phase]));
  return [
    row('workflow', phase, runs.workflow, raw),
    ...(s.retried[phase] > 0 ? [row('wf, no retry', phase, unretried, raw)] : []),
    row('wf stream', phase, phase === 'full' ? s.streamFull : s.streamInc, raw),
    ['raw', phase, raw, runs.raw, 1],
    row('raw, 1 MiB pipes', phase, runs.rawPipes, raw),
    row('raw, ssh default', phase, runs.rawDefault, raw),
    row(phase === 'incremental' && s.stockFailed ? 'syncoid*' : 'syncoid', phase, runs.syncoid, raw),
  ];
}

/** The table's rows: tool, phase, median seconds, every run's seconds, ratio to raw. */
function tableRows(res: Results, s: Summary): Row[] {
  const { rawNo, noChange, warmInc, warmNo, rawInc, wf, retried } = s;
  const rows: Row[] = [
    ...transferRows('full', res, s),
    ...transferRows('incremental', res, s),
    ['workflow', 'no-change', noChange, res.workflowRuns.noChange.map((w) => w.seconds), noChange / rawNo],
    ['wf, ssh open', 'incremental', warmInc, secondsOf(res.warmRuns.incremental), warmInc / rawInc],
    ['wf, ssh open', 'no-change', warmNo, secondsOf(res.warmRuns.noChange), warmNo / rawNo],
    ...(retried.noChange > 0 ? [row('wf, no retry', 'no-change', secondsOf(clean(wf.noChange)), rawNo)] : []),
    ['raw', 'no-change', rawNo, res.rawNoChange, 1],
  ];
  if (res.sweep) {
    rows.push([`workflow`, `sweep ${res.sweep.datasets}`, res.sweep.seconds, [], res.sweep.seconds / s.sweepRawSum]);
    rows.push([`raw`, `sweep ${res.sweep.datasets} (sum)`, s.sweepRawSum, [], 1]);
  }
  return rows;
}

function tableLines(res: Results, s: Summary): string[] {
  const out: string[] = [];
  out.push(`${'tool'.padEnd(18)}${'phase'.padEnd(20)}${'seconds'.padStart(9)}  ${'ratio to raw'.padStart(12)}  runs`);
  for (const [tool, phase, seconds, all, ratio] of tableRows(res, s)) {
    out.push(`${tool.padEnd(18)}${phase.padEnd(20)}${seconds.toFixed(3).padStart(9)}  ${(ratio === null || !Number.isFinite(ratio) ? '-' : `${ratio.toFixed(3)}x`).padStart(12)}  ${all.map((x) => x.toFixed(2)).join(' ')}`);
  }
  out.push('wf stream: the stream alone inside the workflow runs without a retry (sendSnapshot\'s own timing of its zfs send | counter | ssh | zfs receive)');
  const { retried, wf } = s;
  if (retried.full + retried.incremental + retried.noChange > 0) {
    out.push(`wf, no retry: the workflow runs in which no activity was retried (runs with a retry: full ${retried.full}/${wf.full.length}, incremental ${retried.incremental}/${wf.incremental.length}, no-change ${retried.noChange}/${wf.noChange.length}); the "workflow" rows count every run, as the operator sees them`);
  }
  if (s.stockFailed) {
    const err = res.syncoidStockIncremental.find((r) => !r.ok)?.error ?? '';
    out.push(`* stock syncoid ${res.facts.sanoid} cannot run an incremental against zfs-fuse (${err}); the times shown are a private copy with its fallback bug fixed (one line)`);
  }
  return out;
}

function sweepLines(sweep: NonNullable<Results['sweep']>): string[] {
  const out: string[] = [];
  out.push(`sweep: ${sweep.datasets} datasets started at once, ${sweep.failures.length} failed; per-run times min ${Math.min(...sweep.runSeconds).toFixed(2)} median ${median(sweep.runSeconds).toFixed(2)} max ${Math.max(...sweep.runSeconds).toFixed(2)} s; raw per dataset median ${median(sweep.rawSeconds).toFixed(3)} s; history events (first runs) max ${sweep.maxEvents}`);
  for (const failure of sweep.failures.slice(0, 5)) out.push(`  failed: ${failure}`);
  const per = (f: (b: RunBreakdown) => number) => median(sweep.breakdowns.map(f)).toFixed(3);
  const queued = (b: RunBreakdown) => b.activities.reduce((n, a) => n + ((a.startedMs ?? a.scheduledMs) - a.scheduledMs), 0) / 1000;
  const ran = (name: string) => (b: RunBreakdown) => b.activities.filter((a) => a.name === name).reduce((n, a) => n + ((a.closedMs ?? 0) - (a.startedMs ?? 0)), 0) / 1000;
  out.push(`sweep runs, median per run: workflow ${per((b) => b.workflowMs / 1000)} s = activities running ${per((b) => b.activityRunningMs / 1000)} + orchestration ${per((b) => b.orchestrationMs / 1000)}; activities queued ${per(queued)} s in all; createSnapshot ${per(ran('createSnapshot'))}, readDatasetState ${per(ran('readDatasetState'))}, sendSnapshot ${per(ran('sendSnapshot'))} (stream ${per((b) => b.streamMs / 1000)}) s`);
  return out;
}

function retryLines(res: Results, retries: RetryLog): string[] {
  if (retries.entries.length === 0) return [];
  const out = [`activity retries: ${retries.entries.length} (a retried activity waits its retry interval first: 2 s for the steps, ${res.retryInitialMs / 1000} s for sendSnapshot with the lab inventory's retry policy); by reason:`];
  for (const [reason, count] of retries.reasons()) out.push(`  ${String(count).padStart(4)} x ${reason}`);
  for (const r of retries.entries.slice(0, 3)) out.push(`  e.g. ${r.slice(0, 300)}`);
  return out;
}

/** Where the workflow's time goes: the median full, incremental and no-change runs. */
function breakdownLines(s: Summary): string[] {
  const out: string[] = [];
  for (const phase of ['full', 'incremental', 'no-change'] as const) {
    const picked = s.picked[phase];
    if (!picked) continue;
    const w = picked.run;
    out.push('');
    out.push(`workflow ${phase} (median run${picked.withoutRetries ? ' without retries' : ''}, ${w.seconds.toFixed(3)} s, ${(w.result.bytes / MiB).toFixed(1)} MiB counted on the source):`);
    for (const line of describeBreakdown(w.breakdown)) out.push(`  ${line}`);
  }
  return out;
}

/** The run's notes, then what raw, the workflow rows and syncoid are, and what syncoid said. */
export function reportNotes(res: Results): string[] {
  const notes = [...res.notes];
  notes.push(`raw: zfs send [-i] | ssh -c ${res.ciphers} root@target zfs receive -u (the product's ssh options and ciphers), no byte counter, no -p; raw, 1 MiB pipes: the same through the product's splice counter (1 MiB pipes on the source) into a 1 MiB stdin pipe on the target (what the receive guard does); raw, ssh default: the same as raw with OpenSSH's default cipher; the workflow sends with -p through its byte counter, as the replication user via its receive guard and sudo; syncoid gets the same ciphers (--sshcipher)`);
  notes.push('workflow rows: every run starts cold, its source\'s shared ssh connection to the target closed first (the first dataset of a schedule tick); "wf, ssh open": the run finds the connection the run before it left open (kept 60 s: a host\'s other datasets in the same tick)');
  notes.push(`syncoid: run as root on the source with its defaults (lzop compression, mbuffer, pv, a sync snapshot per run, receive -F): its full sends the oldest snapshot (@bench-a) then an -I increment to its sync snapshot`);
  for (const message of res.syncoidMessages) notes.push(`syncoid said: ${message}`);
  return notes;
}

function reportLines(res: Results, s: Summary, options: BenchOptions, retries: RetryLog, notes: string[]): string[] {
  const f = res.facts;
  const sweep = res.sweep;
  return [
    `esxi-zfs replication benchmark, ${f.date}`,
    `machine: ${f.cores} cores (${f.cpu}), ${f.memoryGiB} GiB, ${f.kernel}, node ${f.node}; zfs-fuse ${f.zfsFuse}, sanoid/syncoid ${f.sanoid}`,
    `load average at start ${f.loadavgAtStart.join(' ')}, at end ${f.loadavgAtEnd.join(' ')}; other lab bridges on the machine: ${f.otherLabs}`,
    `data: ${options.sizeMiB} MiB (${options.randomMiB} random + ${options.repeatedMiB} repeated), ${(res.referencedBytes / MiB).toFixed(0)} MiB referenced; change ${options.changeMiB} MiB overwritten in place; ${res.runsDone} run(s) per measurement, median shown`,
    '',
    ...tableLines(res, s),
    '',
    ...(sweep ? sweepLines(sweep) : []),
    ...retryLines(res, retries),
    `worker (separate process): RSS ${(res.workerStartRss / MiB).toFixed(0)} MiB once started, ${(res.workerRssBeforeSweep / MiB).toFixed(0)} MiB before the sweep; peak RSS ${(res.workerPeakRss / MiB).toFixed(0)} MiB over the whole run${sweep ? `, ${(sweep.workerPeakRss / MiB).toFixed(0)} MiB during the sweep` : ''}; VmHWM at the end ${(res.workerHwm / MiB).toFixed(0)} MiB (sampled every 200 ms)`,
    `raw: \`zfs snapshot\` alone took median ${median(res.rawSnapshotSeconds).toFixed(3)} s (not in the raw full/incremental times; in the no-change floor)`,
    ...breakdownLines(s),
    '',
    'notes:',
    ...notes.map((note) => `  - ${note}`),
  ];
}

/** Prints the report; with --json, the JSON object after it. */
export function report(res: Results, options: BenchOptions, retries: RetryLog): void {
  const summary = summarize(res);
  const notes = reportNotes(res);
  for (const line of reportLines(res, summary, options, retries, notes)) console.log(line);
  if (options.json) console.log(JSON.stringify(reportJson(res, summary, options, retries, notes)));
}
