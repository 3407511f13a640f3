/**
 * `esxi-zfs recover-datastores FILE [--vm NAME ...] [--wait] [--json]`: after a storage VM or its
 * ESXi host rebooted, starts recoverDatastores for each storage VM named (default: every one with a
 * datastore), one workflow per VM (`recover-datastores/<vm>`; starting it again follows the running
 * one). With --wait: its progress while it waits for the exports (the workflow's query), then per
 * host and datastore what was found, remounted or is still inaccessible and why; exit 1 when a run
 * failed or a datastore is still not accessible.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { recoverDatastores } from '../../workflows';
import { Runbook, runSearchAttributes } from '../../core/search-attributes';
import {
  recoverDatastoresProgressQuery, recoverWorkflowId, type RecoverDatastoresProgress, type RecoverDatastoresResult,
} from '../../core/datastore/recover';
import { recoverDatastoresInput } from '../../inventory/datastore';
import { requireInventory } from '../../inventory/load';
import { storageVms } from '../../inventory/targets';
import { report, settle, startOrFollow } from '../start-runs';
import { withClient } from '../temporal-client';

const settledStates = new Set(['accessible', 'remounted']);

export function formatRecoverResult(result: RecoverDatastoresResult): string {
  const lines = [`${result.vm}: ${result.exports.detail} (after ${result.exportChecks} check(s))`];
  for (const h of result.hosts) {
    for (const d of h.datastores) lines.push(`  ${h.host} ${d.datastore}: ${d.state}${d.reason ? `: ${d.reason}` : ''}`);
  }
  return lines.join('\n');
}

/** `host datastore: state` of every datastore that is neither accessible nor remounted. */
export function unsettled(results: RecoverDatastoresResult[]): string[] {
  return results.flatMap((r) => r.hosts.flatMap((h) => h.datastores.filter((d) => !settledStates.has(d.state)).map((d) => `${r.vm} on ${h.host}: ${d.datastore} ${d.state}`)));
}

export function progressLine(vm: string, p: RecoverDatastoresProgress): string {
  if (p.phase === 'waitingForExports') return `${vm}: waiting for its NFS exports (look ${p.exportChecks}, until ${p.deadline}): ${p.lastCheck ?? 'asking'}`;
  return `${vm}: ${p.phase}${p.hosts.length > 0 ? `: ${p.hosts.map((h) => h.host).join(', ')} done` : ''}`;
}

/** Prints each run's progress (its query) when it changes, until `done` settles. */
async function follow(names: string[], handles: WorkflowHandle<typeof recoverDatastores>[], done: Promise<unknown>): Promise<void> {
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  const last = new Map<string, string>();
  while (!finished) {
    await Promise.race([done.catch(() => undefined), sleep(2000)]);
    await Promise.all(handles.map(async (handle, i) => {
      const line = await handle.query(recoverDatastoresProgressQuery).then((p) => progressLine(names[i]!, p), () => undefined);
      if (line && !finished && last.get(names[i]!) !== line) console.log(line);
      if (line) last.set(names[i]!, line);
    }));
  }
}

export function registerRecoverDatastores(program: Command): void {
  program
    .command('recover-datastores')
    .description('after a storage VM or host reboot (workflow recoverDatastores): wait for its NFS exports, refresh every host\'s storage, remount inaccessible datastores that no running VM uses')
    .argument('<file>', 'inventory YAML file')
    .option('--vm <name...>', 'only these storage VMs (default: every one with a datastore)')
    .option('--wait', 'wait for the results; exit 1 if a run failed or a datastore is still inaccessible')
    .option('--json', 'with --wait: print the results as JSON')
    .action(async (file: string, options: { vm?: string[]; wait?: boolean; json?: boolean }) => {
      const inventory = requireInventory(file);
      const names = options.vm ?? storageVms(inventory).filter((vm) => vm.datasets.some((d) => d.datastore)).map((vm) => vm.name);
      const inputs = names.map((name) => recoverDatastoresInput(inventory, name));
      await withClient(async (client) => {
        const handles = await startOrFollow(client, recoverDatastores, inputs.map((input) => ({
          workflowId: recoverWorkflowId(input.vm),
          args: [input],
          searchAttributes: runSearchAttributes(Runbook.recoverDatastores, { host: input.vm, hosts: input.hosts.map((h) => h.host.name) }),
          summary: `recover the NFS datastores of ${input.vm} on ${input.hosts.map((h) => h.host.name).join(', ')}`,
        })), options.json);
        if (!options.wait) return;
        const settling = settle(names, handles.map((h) => h.result()));
        if (!options.json) await follow(names, handles, settling);
        const settled = await settling;
        report('recoverDatastores', settled, options.json, formatRecoverResult);
        const left = unsettled(settled.results);
        if (left.length > 0) throw new Error(`still not accessible:\n${left.join('\n')}`);
      });
    });
}
