/**
 * `esxi-zfs failover FILE --dataset D [--force] [--wait] [--json]` and
 * `esxi-zfs failback FILE --dataset D [--discard-changes-after-common-snapshot] [--wait] [--json]`:
 * one run per dataset (`failover:<vm>:<dataset>`, `failback:<vm>:<dataset>`; starting again while
 * one runs attaches to it). With --wait: the current step while it runs, then what each step found,
 * changed and warned about; exit 1 when the run failed (its message says what to do).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import { failback, failover } from '../../workflows';
import { Runbook, runSearchAttributes } from '../../core/search-attributes';
import {
  failbackWorkflowId, failoverProgressQuery, failoverWorkflowId, type FailbackResult, type FailoverResult, type StepOutcome,
} from '../../core/failover/shared';
import { requireInventory } from '../../inventory/load';
import { failbackInput, failoverInput } from '../../inventory/failover';
import { report, settle, startOrFollow } from '../start-runs';
import { withClient } from '../temporal-client';

function formatSteps(steps: StepOutcome<string>[]): string[] {
  return steps.flatMap(({ step, report: r }) => [
    ...r.changed.map((c) => `  ${step}: ${c}`),
    ...r.warnings.map((w) => `  ${step}: warning: ${w}`),
  ]);
}

const minutes = (ms: number) => (ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);

export function formatFailoverResult(r: FailoverResult): string {
  return [
    `${r.source} failed over to ${r.replica}: ${r.clone} is a clone of ${r.origin}`,
    `  lost: what was written on ${r.source} after ${r.lastReplicated} (${minutes(r.lostWindowMs)} before the failover)`,
    ...r.datastores.map((d) => `  datastore ${d}`),
    ...formatSteps(r.steps),
  ].join('\n');
}

export function formatFailbackResult(r: FailbackResult): string {
  if (r.nothingToDo) return `${r.dataset}: ${r.nothingToDo}`;
  return [
    `${r.dataset} failed back${r.finalSnapshot ? ` at @${r.finalSnapshot}` : ''}`,
    ...(r.discarded.length > 0 ? [`  discarded (consent given): ${r.discarded.join('; ')}`] : []),
    ...(r.replication ? [`  replication: ${r.replication.kind}${r.replication.base ? ` from @${r.replication.base}` : ''} to @${r.replication.snapshot}, ${r.replication.bytes} bytes`] : []),
    `  recovered copy: ${r.copy}`,
    ...formatSteps(r.steps),
  ].join('\n');
}

/** The run's result; meanwhile each new step on stderr (from the progress query). */
async function follow<R>(handle: WorkflowHandle, quiet: boolean): Promise<R> {
  let finished = false;
  const result = (handle.result() as Promise<R>).finally(() => {
    finished = true;
  });
  let shown = '';
  while (!finished) {
    await Promise.race([result.catch(() => undefined), sleep(1000)]);
    if (finished || quiet) continue;
    try {
      const { step, done } = await handle.query(failoverProgressQuery);
      if (step !== shown && step !== 'done') console.error(`${handle.workflowId}: ${step} (${done.length} step(s) done)`);
      shown = step;
    } catch {
      // ended meanwhile: the result tells
    }
  }
  return result;
}

async function run<R>(workflowId: string, start: () => Promise<WorkflowHandle[]>, wait: boolean | undefined, json: boolean | undefined, runbook: string, format: (r: R) => string): Promise<void> {
  const [handle] = await start();
  if (!wait) return;
  report(runbook, await settle([workflowId], [follow<R>(handle!, !!json)]), json, format);
}

export function registerFailover(program: Command): void {
  program
    .command('failover')
    .description('fail a replicated dataset over to its replica (workflow failover): schedules paused and the replica fenced, the newest replicated snapshot cloned and shared, mounted as <datastore>-recovered on the surviving ESXi hosts; the replica itself is never written')
    .argument('<file>', 'inventory YAML file')
    .requiredOption('--dataset <dataset>', 'source dataset, e.g. sp1/nas/vol0 (or VM:dataset)')
    .option('--force', 'fail over although the source storage VM still answers SSH (two writable copies: you accept the split)')
    .option('--wait', 'follow the run and print what each step did; exit 1 if it failed')
    .option('--json', 'with --wait: print the result as JSON')
    .action(async (file: string, options: { dataset: string; force?: boolean; wait?: boolean; json?: boolean }) => {
      const input = failoverInput(requireInventory(file), options.dataset, options.force ?? false);
      const workflowId = failoverWorkflowId(input.job);
      await withClient((client) => run<FailoverResult>(workflowId, () => startOrFollow(client, failover, [{
        workflowId,
        args: [input],
        searchAttributes: runSearchAttributes(Runbook.failover, { host: input.job.source.host.name, dataset: input.job.source.dataset }),
        summary: `fail ${input.job.source.host.name}:${input.job.source.dataset} over to ${input.job.target.host.name}`,
      }], options.json), options.wait, options.json, 'failover', formatFailoverResult));
    });

  program
    .command('failback')
    .description('bring a failed-over dataset home (workflow failback): the recovered copy synced back to the original, a short cut-over of the datastores, the fence lifted, one replication, schedules resumed')
    .argument('<file>', 'inventory YAML file')
    .requiredOption('--dataset <dataset>', 'source dataset, e.g. sp1/nas/vol0 (or VM:dataset)')
    .option('--discard-changes-after-common-snapshot', 'consent: discard what the original holds after the snapshot it shares with the recovered copy (a run without it stops and names those changes)')
    .option('--wait', 'follow the run and print what each step did; exit 1 if it failed')
    .option('--json', 'with --wait: print the result as JSON')
    .action(async (file: string, options: { dataset: string; discardChangesAfterCommonSnapshot?: boolean; wait?: boolean; json?: boolean }) => {
      const input = failbackInput(requireInventory(file), options.dataset, options.discardChangesAfterCommonSnapshot ?? false);
      const workflowId = failbackWorkflowId(input.job);
      await withClient((client) => run<FailbackResult>(workflowId, () => startOrFollow(client, failback, [{
        workflowId,
        args: [input],
        searchAttributes: runSearchAttributes(Runbook.failback, { host: input.job.source.host.name, dataset: input.job.source.dataset }),
        summary: `fail ${input.job.source.host.name}:${input.job.source.dataset} back from ${input.job.target.host.name}`,
      }], options.json), options.wait, options.json, 'failback', formatFailbackResult));
    });
}
