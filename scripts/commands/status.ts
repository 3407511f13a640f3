import type { Command } from 'commander';
import { durationMs } from '../../inventory/duration';
import { requireInventory } from '../../inventory/load';
import { inspectClusterInput } from '../../inventory/status';
import { inspectLive } from '../cluster-status';
import { replicationStatus } from '../status';
import { clusterStatus, clusterStatusToJson, formatClusterStatus } from '../status-view';
import { withClient } from '../temporal-client';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'the cluster in one view: per ESXi host its connection, maintenance mode, passthrough device, storage VM (power, guest address, SSH) and NFS datastores ' +
        '(mounted, accessible); per storage VM its pool (health, size, log and cache devices) and datasets (used, available, mountpoint, sharenfs, newest snapshot); ' +
        'per replicated dataset its last run, a run in progress and the next scheduled one. The live state is read by the worker (workflow inspectCluster). ' +
        'Without FILE, only the replication of the datasets that have a schedule in the namespace. Exit 0 when everything is healthy, 1 when something is not',
    )
    .argument('[file]', 'inventory YAML file')
    .option('--json', 'print one JSON object (shape in README, "status")')
    .option('--replication-only', 'read Temporal only: no live inspection of the hosts')
    .option('--margin <duration>', "how far past its schedule's period a replication may be before it counts as stale", '1h')
    .action(async (file: string | undefined, options: { json?: boolean; replicationOnly?: boolean; margin: string }) => {
      const inventory = file ? requireInventory(file) : undefined;
      const marginMs = durationMs(options.margin);
      const status = await withClient(async (client) => {
        const [replication, live] = await Promise.all([
          replicationStatus(client, inventory),
          inventory && !options.replicationOnly ? inspectLive(client, inspectClusterInput(inventory)) : undefined,
        ]);
        return clusterStatus({ now: new Date(), live, replication, marginMs });
      });
      console.log(options.json ? JSON.stringify(clusterStatusToJson(status), null, 2) : formatClusterStatus(status));
      if (!status.healthy) process.exitCode = 1;
    });
}
