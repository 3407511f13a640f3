/**
 * `esxi-zfs build-vm FILE [--host NAME ...] [--wait] [--json]`: starts buildStorageVm for each ESXi
 * host named (default: every host with a storage VM), one workflow per host
 * (`build-storage-vm/<host>`). With --wait it follows each run's status query (the step, and while
 * the guest is awaited its deadline) and prints what each step changed.
 */
import type { Command } from 'commander';
import { WorkflowIds } from '../../core/provision/shared';
import type { WorkflowHandle } from '@temporalio/client';
import { buildStorageVm } from '../../workflows';
import { Runbook, runSearchAttributes } from '../../core/search-attributes';
import { storageVmStatusQuery, type BuildStorageVmResult, type StorageVmStatus } from '../../core/storage-vm/shared';
import { requireInventory } from '../../inventory/load';
import { buildStorageVmInput, storageVmHosts } from '../../inventory/storage-vm';
import { report, settle, startOrFollow } from '../start-runs';
import { withClient } from '../temporal-client';

export const buildVmWorkflowId = WorkflowIds.buildStorageVm;
const STATUS_EVERY_MS = 2000;

export function formatBuildVmResult(result: BuildStorageVmResult): string {
  const changed = result.steps.flatMap((s) => s.report.changed);
  const lines = [`${result.host}: ${result.vm} built and answering (${result.backing} passthrough backing)${changed.length === 0 ? ', nothing changed' : ''}`];
  for (const { step, report } of result.steps) {
    for (const c of report.changed) lines.push(`  ${step}: ${c}`);
    for (const w of report.warnings) lines.push(`  ${step}: warning: ${w}`);
  }
  return lines.join('\n');
}

const describe = (host: string, s: StorageVmStatus) => `${host}: ${s.step} since ${s.since}${s.deadline ? `, by ${s.deadline}` : ''}`;

async function follow(host: string, handle: WorkflowHandle<typeof buildStorageVm>): Promise<BuildStorageVmResult> {
  let last = '';
  const result = handle.result();
  let ended = false;
  void result.then(() => { ended = true; }, () => { ended = true; });
  while (!ended) {
    const line = await handle.query(storageVmStatusQuery).then((s) => describe(host, s), () => last);
    if (line !== last) console.log((last = line));
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, STATUS_EVERY_MS))]);
  }
  return result;
}

export function registerBuildVm(program: Command): void {
  program
    .command('build-vm')
    .description('build each host\'s storage VM (workflow buildStorageVm): its passthrough device (active: run passthrough first), memory reserved, NICs, disk or ISO; power on, wait for its address and SSH; boot order')
    .argument('<file>', 'inventory YAML file')
    .option('--host <name...>', 'only these ESXi hosts (default: every host with a storage VM)')
    .option('--wait', 'follow each run and print the results; exit 1 if one failed')
    .option('--json', 'with --wait: print the results as JSON')
    .action(async (file: string, options: { host?: string[]; wait?: boolean; json?: boolean }) => {
      const inventory = requireInventory(file);
      const names = options.host ?? storageVmHosts(inventory);
      const inputs = names.map((name) => buildStorageVmInput(inventory, name));
      await withClient(async (client) => {
        const handles = await startOrFollow(client, buildStorageVm, inputs.map((input) => ({
          workflowId: buildVmWorkflowId(input.host.name),
          args: [input],
          searchAttributes: runSearchAttributes(Runbook.buildStorageVm, { host: input.host.name }),
          summary: `storage VM ${input.vm.name} on ${input.host.name}: build, power on, boot order`,
        })), options.json);
        if (!options.wait) return;
        const settled = await settle(names, handles.map((h, i) => (options.json ? h.result() : follow(names[i]!, h))));
        report('buildStorageVm', settled, options.json, formatBuildVmResult);
      });
    });
}
