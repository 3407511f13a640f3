/**
 * Phase 1: rounds of every tool's full and incremental of SOURCE, each into its own fresh target
 * (the target pool holds one copy at a time), tools in a rotating order; in the first round also
 * the no-change runs (workflow, and the raw floor), and in every round the workflow's incremental
 * again through the ssh connection the run before left open. Every tool starts from the same
 * source state: rolled back to @bench-a, the same change written at the same offset.
 */
import type { LabHostState } from '../../lab/lab';
import type { ReplicationJob } from '../../core/replication/shared';
import { destroyScript, mustOnHost, timedOnHost } from './host';
import { CHANGE_FILE } from './lab-setup';
import { benchStarted, log } from './log';
import type { BenchOptions } from './options';
import type { RoundResults } from './results';
import { isRawTool, PATCHED_SYNCOID, rawPipeline, SOURCE, TARGETS, TOOLS, toolLabel, type RawTool, type SshCommands, type Syncoid, type Tool } from './tools';
import { benchJob, type WorkflowRunner } from './workflow-runs';

export interface RoundContext {
  src: LabHostState;
  dst: LabHostState;
  options: BenchOptions;
  template: ReplicationJob;
  ssh: SshCommands;
  syncoid: Syncoid;
  workflows: WorkflowRunner;
}

/** Back to the data every tool starts from: later snapshots (ours, the workflow's, syncoid's) go. */
const resetSource = (ctx: RoundContext) => mustOnHost(ctx.src, `zfs rollback -r ${SOURCE}@bench-a`);
const applyChange = (ctx: RoundContext) =>
  mustOnHost(ctx.src, `dd if=${CHANGE_FILE} of=/${SOURCE}/random bs=1M seek=${ctx.options.changeOffsetMiB} conv=notrunc 2>/dev/null && sync`);
const destroyTarget = (ctx: RoundContext, tool: Tool) => mustOnHost(ctx.dst, destroyScript(TARGETS[tool]));
const workflowJob = (ctx: RoundContext) => benchJob(ctx.template, SOURCE, TARGETS.workflow);

/**
 * A warm-up send and receive, not timed: the first tool of the first round would otherwise meet
 * cold caches on both hosts (measured: its full send 1 s slower than every later one).
 */
async function warmUp(ctx: RoundContext): Promise<void> {
  await mustOnHost(ctx.src, `zfs send ${SOURCE}@bench-a | ${ctx.ssh.ssh} zfs receive -u sp2/bench/warmup`, { timeoutMs: 600_000 });
  await mustOnHost(ctx.dst, destroyScript('sp2/bench/warmup'));
}

/** The full send of `tool`, in seconds. */
async function fullSend(ctx: RoundContext, res: RoundResults, tool: Tool): Promise<number> {
  if (tool === 'workflow') {
    const w = await ctx.workflows.run(workflowJob(ctx), 'full');
    res.workflowRuns.full.push(w);
    return w.seconds;
  }
  if (isRawTool(tool)) return timedOnHost(ctx.src, rawPipeline(tool, `zfs send ${SOURCE}@bench-a`, ctx.ssh));
  const s = await ctx.syncoid.run('syncoid');
  if (!s.ok) throw new Error(`syncoid full failed: ${s.error}`);
  return s.seconds;
}

/**
 * The same change again, now through the connection the run before left open: the case of a
 * host's second and later datasets when their schedules fire together.
 */
async function warmIncremental(ctx: RoundContext, res: RoundResults): Promise<void> {
  await applyChange(ctx);
  res.warmRuns.incremental.push(await ctx.workflows.run(workflowJob(ctx), 'incremental', 'warm'));
}

/** Workflow runs with nothing to send: cold ones, then warm ones. */
async function noChangeWorkflowRuns(ctx: RoundContext, res: RoundResults): Promise<void> {
  for (const connection of ['cold', 'warm'] as const) {
    for (let i = 0; i < ctx.options.noChangeRuns; i++) {
      const n = await ctx.workflows.run(workflowJob(ctx), 'incremental', connection);
      if (n.result.bytes > 256 * 1024) throw new Error(`no-change run sent ${n.result.bytes} bytes`);
      (connection === 'cold' ? res.workflowRuns.noChange : res.warmRuns.noChange).push(n);
    }
  }
}

/** The raw floor of a run with nothing to send: zfs snapshot + an empty zfs send -i, received. */
async function rawNoChangeRuns(ctx: RoundContext, res: RoundResults): Promise<void> {
  let base = 'bench-b';
  for (let i = 0; i < ctx.options.noChangeRuns; i++) {
    const next = `bench-n${i}`;
    res.rawNoChange.push(await timedOnHost(ctx.src, `zfs snapshot ${SOURCE}@${next} && zfs send -i @${base} ${SOURCE}@${next} | ${ctx.ssh.ssh} zfs receive -u ${TARGETS.raw}`));
    base = next;
  }
}

/** A raw incremental: its own snapshot (timed apart), then the send. */
async function rawIncremental(ctx: RoundContext, res: RoundResults, tool: RawTool): Promise<number> {
  const snapshotSeconds = await timedOnHost(ctx.src, `zfs snapshot ${SOURCE}@bench-b`);
  if (tool === 'raw') res.rawSnapshotSeconds.push(snapshotSeconds);
  return timedOnHost(ctx.src, rawPipeline(tool, `zfs send -i @bench-a ${SOURCE}@bench-b`, ctx.ssh));
}

/** syncoid's incremental: stock, and when stock fails, the patched copy. */
async function syncoidIncremental(ctx: RoundContext, res: RoundResults): Promise<number> {
  const stock = await ctx.syncoid.run('syncoid');
  res.syncoidStockIncremental.push(stock);
  if (stock.ok) return stock.seconds;
  const fixed = await ctx.syncoid.run(`perl ${PATCHED_SYNCOID}`);
  if (!fixed.ok) throw new Error(`syncoid incremental failed, stock (${stock.error}) and with the fallback fixed (${fixed.error})`);
  return fixed.seconds;
}

/** The incremental of `tool` after the change, in seconds; the workflow's and raw's extra runs with it. */
async function incrementalSend(ctx: RoundContext, res: RoundResults, tool: Tool, round: number): Promise<number> {
  if (tool === 'workflow') {
    const w = await ctx.workflows.run(workflowJob(ctx), 'incremental');
    res.workflowRuns.incremental.push(w);
    await warmIncremental(ctx, res);
    if (round === 0) await noChangeWorkflowRuns(ctx, res);
    return w.seconds;
  }
  if (isRawTool(tool)) {
    const seconds = await rawIncremental(ctx, res, tool);
    if (round === 0 && tool === 'raw') await rawNoChangeRuns(ctx, res);
    return seconds;
  }
  return syncoidIncremental(ctx, res);
}

/**
 * --runs rounds, fewer when another would exceed --budget-s with the sweep (`sweepEstimateMs`),
 * said in `notes`. Leaves the source dataset destroyed.
 */
export async function measureRounds(ctx: RoundContext, sweepEstimateMs: number, notes: string[]): Promise<RoundResults> {
  const { runs, budgetMs } = ctx.options;
  const res: RoundResults = {
    runsDone: 0,
    full: { workflow: [], raw: [], rawPipes: [], rawDefault: [], syncoid: [] },
    incremental: { workflow: [], raw: [], rawPipes: [], rawDefault: [], syncoid: [] },
    workflowRuns: { full: [], incremental: [], noChange: [] },
    warmRuns: { incremental: [], noChange: [] },
    rawSnapshotSeconds: [],
    rawNoChange: [],
    syncoidStockIncremental: [],
  };
  await warmUp(ctx);
  for (let r = 0; r < runs; r++) {
    const repStarted = Date.now();
    const order = TOOLS.map((_, i) => TOOLS[(i + r) % TOOLS.length]!); // rotate: no tool always first
    for (const tool of order) {
      await resetSource(ctx);
      await destroyTarget(ctx, tool);
      const fullSeconds = await fullSend(ctx, res, tool);
      res.full[tool].push(fullSeconds);
      await applyChange(ctx);
      const incSeconds = await incrementalSend(ctx, res, tool, r);
      res.incremental[tool].push(incSeconds);
      await destroyTarget(ctx, tool);
      log(`run ${r + 1}/${runs} ${toolLabel(tool).padEnd(17)} full ${fullSeconds.toFixed(2)} s, incremental ${incSeconds.toFixed(2)} s`);
    }
    res.runsDone = r + 1;
    const repMs = Date.now() - repStarted;
    if (r + 1 < runs && Date.now() - benchStarted + repMs + sweepEstimateMs > budgetMs) {
      notes.push(`runs: ${res.runsDone} of ${runs} (a run took ${(repMs / 1000).toFixed(0)} s; another would exceed the ${budgetMs / 1000} s budget with the sweep)`);
      break;
    }
  }
  await resetSource(ctx);
  await mustOnHost(ctx.src, destroyScript(SOURCE));
  return res;
}
