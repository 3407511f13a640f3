/**
 * `esxi-zfs datastores FILE [--vm NAME ...] [--wait] [--json]`: starts registerDatastore for each
 * storage VM named (default: every one with a datastore), one workflow per VM
 * (`register-datastore/<vm>`): the storage network and the NFS datastores on each ESXi host its
 * shares are to be mounted on.
 */
import type { Command } from 'commander';
import { WorkflowIds } from '../../core/provision/shared';
import { registerDatastore } from '../../workflows';
import { Runbook, runSearchAttributes } from '../../core/search-attributes';
import type { RegisterDatastoreResult } from '../../core/datastore/shared';
import { requireInventory } from '../../inventory/load';
import { registerDatastoreInput } from '../../inventory/datastore';
import { storageVms } from '../../inventory/targets';
import { report, settle, startOrFollow } from '../start-runs';
import { withClient } from '../temporal-client';

export const datastoreWorkflowId = WorkflowIds.registerDatastore;

export function formatDatastoreResult(result: RegisterDatastoreResult): string {
  const lines: string[] = [];
  for (const h of result.hosts) {
    const changes = h.steps.flatMap((s) => s.report.changed);
    lines.push(`${result.vm} on ${h.host}: ${h.failed ? `failed: ${h.failed}` : changes.length === 0 ? 'everything in place' : `${changes.length} change(s)`}`);
    for (const { step, report } of h.steps) {
      for (const c of report.changed) lines.push(`  ${step}: ${c}`);
      for (const w of report.warnings) lines.push(`  ${step}: warning: ${w}`);
    }
  }
  return lines.join('\n');
}

export function registerDatastores(program: Command): void {
  program
    .command('datastores')
    .description('mount storage VMs\' shares as NFS datastores (workflow registerDatastore): storage vSwitch, port groups, VMkernel NIC, CreateNasDatastore on each listed host')
    .argument('<file>', 'inventory YAML file')
    .option('--vm <name...>', 'only these storage VMs (default: every one with a datastore)')
    .option('--wait', 'wait for the results and print what changed; exit 1 if one failed')
    .option('--json', 'with --wait: print the results as JSON')
    .action(async (file: string, options: { vm?: string[]; wait?: boolean; json?: boolean }) => {
      const inventory = requireInventory(file);
      const names = options.vm ?? storageVms(inventory).filter((vm) => vm.datasets.some((d) => d.datastore)).map((vm) => vm.name);
      const inputs = names.map((name) => registerDatastoreInput(inventory, name));
      await withClient(async (client) => {
        const handles = await startOrFollow(client, registerDatastore, inputs.map((input) => ({
          workflowId: datastoreWorkflowId(input.vm),
          args: [input],
          searchAttributes: runSearchAttributes(Runbook.registerDatastore, { hosts: input.hosts.map((h) => h.host.name) }),
          summary: `NFS datastores of ${input.vm} on ${input.hosts.map((h) => h.host.name).join(', ')}`,
        })), options.json);
        if (!options.wait) return;
        report('registerDatastore', await settle(names, handles.map((h) => h.result())), options.json, formatDatastoreResult);
      });
    });
}
