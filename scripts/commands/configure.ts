/**
 * `esxi-zfs configure FILE [--vm NAME ...] [--reach-at ADDR] [--wait] [--json]`: starts
 * configureStorage for each storage VM named (default: every one), one workflow per VM
 * (`configure-storage/<vm>`): its network, name resolution, pool, datasets and shares.
 */
import type { Command } from 'commander';
import { WorkflowIds } from '../../core/provision/shared';
import { configureStorage } from '../../workflows';
import { Runbook, runSearchAttributes } from '../../core/search-attributes';
import type { ConfigureStorageResult } from '../../core/configure/shared';
import { requireInventory } from '../../inventory/load';
import { configureStorageInput } from '../../inventory/configure';
import { storageVms } from '../../inventory/targets';
import { report, settle, startOrFollow } from '../start-runs';
import { withClient } from '../temporal-client';

export const configureWorkflowId = WorkflowIds.configureStorage;

export function formatConfigureResult(result: ConfigureStorageResult): string {
  const lines: string[] = [];
  const changes = result.steps.reduce((n, s) => n + s.report.changed.length, 0);
  lines.push(`${result.host}: ${changes === 0 ? 'everything in place, nothing changed' : `${changes} change(s)`}`);
  for (const { step, report } of result.steps) {
    for (const c of report.changed) lines.push(`  ${step}: ${c}`);
    for (const w of report.warnings) lines.push(`  ${step}: warning: ${w}`);
  }
  return lines.join('\n');
}

export function registerConfigure(program: Command): void {
  program
    .command('configure')
    .description("configure storage VMs (workflow configureStorage): NICs, routes, /etc/hosts, DNS, the pool, datasets and NFS shares; a second run changes nothing")
    .argument('<file>', 'inventory YAML file')
    .option('--vm <name...>', 'only these storage VMs (default: every storage VM of the inventory)')
    .option('--reach-at <address>', 'with one --vm: where the VM answers SSH now, when not yet at its management address (moved last)')
    .option('--wait', 'wait for the results and print what changed; exit 1 if one failed')
    .option('--json', 'with --wait: print the results as JSON')
    .action(async (file: string, options: { vm?: string[]; reachAt?: string; wait?: boolean; json?: boolean }) => {
      const inventory = requireInventory(file);
      const names = options.vm ?? storageVms(inventory).map((vm) => vm.name);
      if (options.reachAt !== undefined && names.length !== 1) throw new Error('--reach-at needs exactly one --vm');
      const inputs = names.map((name) => configureStorageInput(inventory, name, options.reachAt));
      await withClient(async (client) => {
        const handles = await startOrFollow(client, configureStorage, inputs.map((input) => ({
          workflowId: configureWorkflowId(input.host.name),
          args: [input],
          searchAttributes: runSearchAttributes(Runbook.configureStorage, { host: input.host.name }),
          summary: `configure storage VM ${input.host.name}: network, pool ${input.pool.name}, ${input.datasets.length} dataset(s)`,
        })), options.json);
        if (!options.wait) return;
        report('configureStorage', await settle(names, handles.map((h) => h.result())), options.json, formatConfigureResult);
      });
    });
}
