import type { Command } from 'commander';
import { Runbook, runSearchAttributes } from '../../core/search-attributes';
import { probeStorageHosts } from '../../workflows';
import { requireInventory } from '../../inventory/load';
import { storageHostRef, storageVms } from '../../inventory/targets';
import { TASK_QUEUE, workflowUiLink } from '../../workers/config';
import { withClient } from '../temporal-client';
import type { StorageHostFacts } from '../../activities/guest/probe';

function formatFacts(facts: StorageHostFacts): string {
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
  const lines = [
    `${facts.host}: ${facts.os.name} ${facts.os.release} (hostname ${facts.os.hostname}), ZFS pool version ${facts.zfs.pool}${facts.zfs.filesystem ? `, filesystem version ${facts.zfs.filesystem}` : ''}`,
    `  pools: ${facts.pools.length === 0 ? 'none' : facts.pools.map((p) => `${p.name} ${p.health} ${gib(p.sizeBytes)}`).join(', ')}`,
  ];
  for (const disk of facts.disks) {
    lines.push(`  disk ${disk.name} ${gib(disk.sizeBytes)}${disk.model ? ` ${disk.model}` : ''}${disk.pool ? ` (in pool ${disk.pool})` : ''}`);
  }
  return lines.join('\n');
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description("read every storage host's OS, ZFS version, pools and disks (workflow probeStorageHosts)")
    .argument('<file>', 'inventory YAML file')
    .option('--json', 'print the facts as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const inventory = requireInventory(file);
      const hosts = storageVms(inventory).map((vm) => storageHostRef(inventory, vm));
      const names = hosts.map((h) => h.name);
      // One probe of the same hosts at a time: a second start while one runs follows that one.
      const workflowId = `probe:${names.join(',')}`;
      const facts = await withClient(async (client) => {
        const handle = await client.workflow.start(probeStorageHosts, {
          taskQueue: TASK_QUEUE,
          workflowId,
          args: [{ hosts }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          typedSearchAttributes: runSearchAttributes(Runbook.probe, { hosts: names }),
          staticSummary: `probe ${names.join(', ')}`,
        });
        if (!options.json) console.log(`workflow ${workflowId}: ${workflowUiLink(workflowId, handle.firstExecutionRunId)}`);
        return handle.result();
      });
      console.log(options.json ? JSON.stringify(facts, null, 2) : facts.map(formatFacts).join('\n'));
    });
}
