import type { Command } from 'commander';
import { findJob } from '../../inventory/jobs';
import { replicationWorkflowId } from '../../core/replication/shared';
import { requireInventory } from '../../inventory/load';
import { TASK_QUEUE, workflowUiLink } from '../../workers/config';
import { applySchedules } from '../../activities/schedules/apply';
import { listSchedules, pauseSchedule, triggerSchedule, unpauseSchedule, type ScheduleListing } from '../../activities/schedules/control';
import { desiredSchedules } from '../../activities/schedules/desired';
import { describeOutcome, formatInZone, formatRelative, readRunById, renderTable, type RunSummary } from '../status';
import { withClient } from '../temporal-client';

interface ListedSchedule extends ScheduleListing {
  lastResult?: RunSummary;
}

function listingJson(s: ListedSchedule) {
  return {
    scheduleId: s.scheduleId,
    host: s.host,
    dataset: s.dataset,
    target: s.target,
    cron: s.cron,
    timezone: s.timezone,
    paused: s.paused,
    note: s.note,
    nextRuns: s.nextRuns.map((d) => d.toISOString()),
    nextRunsLocal: s.nextRuns.map((d) => formatInZone(d, s.timezone)),
    lastAction: s.lastAction && {
      scheduledAt: s.lastAction.scheduledAt.toISOString(),
      takenAt: s.lastAction.takenAt.toISOString(),
      workflowId: s.lastAction.workflowId,
      runId: s.lastAction.runId,
      status: s.lastResult?.status,
      outcome: s.lastResult && describeOutcome(s.lastResult),
      result: s.lastResult?.result,
      skipped: s.lastResult?.skipped,
      failure: s.lastResult?.failure,
    },
    actionsTaken: s.actionsTaken,
    skippedOverlap: s.skippedOverlap,
    missedCatchupWindow: s.missedCatchupWindow,
  };
}

function listingTable(schedules: ListedSchedule[], now: Date): string {
  if (schedules.length === 0) return 'no replication schedules in this namespace (esxi-zfs schedules apply FILE makes them)';
  const rows = schedules.map((s) => [
    `${s.host}:${s.dataset}`,
    `${s.cron} ${s.timezone}`,
    s.paused ? `yes${s.note ? ` (${s.note})` : ''}` : 'no',
    s.nextRuns.length === 0
      ? '-'
      : `${s.nextRuns.slice(0, 2).map((d) => formatInZone(d, s.timezone)).join(', ')} (${formatRelative(s.nextRuns[0]!, now)})`,
    s.lastAction
      ? `${formatRelative(s.lastAction.takenAt, now)}: ${s.lastResult ? describeOutcome(s.lastResult) : s.lastAction.workflowId}`
      : 'never',
  ]);
  return renderTable(['DATASET', 'SCHEDULE', 'PAUSED', 'NEXT RUNS', 'LAST ACTION'], rows);
}

export function registerSchedules(program: Command): void {
  const schedules = program
    .command('schedules')
    .description(
      'one Temporal Schedule per replicated dataset (cron and time zone from the inventory, overlapping runs skipped). ' +
        'One namespace holds one inventory\'s schedules: apply deletes esxi-zfs:replicate:* schedules the inventory does not name',
    );

  schedules
    .command('apply')
    .description('create, update or delete schedules so the namespace matches the inventory; re-applying changes nothing')
    .argument('<file>', 'inventory YAML file')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const inventory = requireInventory(file);
      const wanted = desiredSchedules(inventory, TASK_QUEUE);
      const desired = new Map(wanted.map((d) => [d.scheduleId, d]));
      const result = await withClient((client) => applySchedules(client, wanted, { prune: true }));
      if (options.json) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      const what = (id: string) => {
        const d = desired.get(id);
        return d ? ` (${d.cron} ${d.timezone}${d.paused ? ', paused' : ''})` : '';
      };
      for (const id of result.created) console.log(`created   ${id}${what(id)}`);
      for (const id of result.updated) console.log(`updated   ${id}${what(id)}: ${result.changes[id]?.join('; ')}`);
      for (const id of result.unchanged) console.log(`unchanged ${id}`);
      for (const id of result.deleted) console.log(`deleted   ${id} (not in ${file})`);
      console.log(
        `${result.created.length} created, ${result.updated.length} updated, ${result.unchanged.length} unchanged, ${result.deleted.length} deleted`,
      );
    });

  schedules
    .command('list')
    .description('every replication schedule: dataset, cron and zone, paused, next run times (in the schedule\'s zone), last action and its result')
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }) => {
      const now = new Date();
      const listed = await withClient(async (client) => {
        const all = await listSchedules(client);
        return Promise.all(
          all.map(async (s): Promise<ListedSchedule> => ({
            ...s,
            lastResult: s.lastAction ? await readRunById(client, s.lastAction.workflowId, s.lastAction.runId) : undefined,
          })),
        );
      });
      console.log(options.json ? JSON.stringify(listed.map(listingJson), null, 2) : listingTable(listed, now));
    });

  schedules
    .command('pause')
    .description('pause the schedule of one dataset (running replication is not affected)')
    .argument('<file>', 'inventory YAML file')
    .requiredOption('--dataset <dataset>', 'dataset, as sp1/nas/vol0 or VM:sp1/nas/vol0')
    .option('--note <text>', 'why (shown by list and status)')
    .action(async (file: string, options: { dataset: string; note?: string }) => {
      const inventory = requireInventory(file);
      const id = await withClient((client) => pauseSchedule(client, inventory, options.dataset, options.note));
      console.log(`paused ${id}`);
    });

  schedules
    .command('unpause')
    .description('unpause the schedule of one dataset')
    .argument('<file>', 'inventory YAML file')
    .requiredOption('--dataset <dataset>', 'dataset, as sp1/nas/vol0 or VM:sp1/nas/vol0')
    .option('--note <text>', 'why')
    .action(async (file: string, options: { dataset: string; note?: string }) => {
      const inventory = requireInventory(file);
      const id = await withClient((client) => unpauseSchedule(client, inventory, options.dataset, options.note));
      console.log(`unpaused ${id}`);
    });

  schedules
    .command('trigger')
    .description('take the schedule\'s action now (skipped if its previous run is still going)')
    .argument('<file>', 'inventory YAML file')
    .requiredOption('--dataset <dataset>', 'dataset, as sp1/nas/vol0 or VM:sp1/nas/vol0')
    .action(async (file: string, options: { dataset: string }) => {
      const inventory = requireInventory(file);
      const job = findJob(inventory, options.dataset);
      const id = await withClient((client) => triggerSchedule(client, inventory, options.dataset));
      console.log(`triggered ${id}; the replication run: ${workflowUiLink(replicationWorkflowId(job))}`);
    });
}
