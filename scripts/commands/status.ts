import type { Command } from 'commander';
import { requireInventory } from '../../inventory/load';
import { formatStatusTable, replicationStatus, statusToJson } from '../status';
import { withClient } from '../temporal-client';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'per replicated dataset: last replication run (age, bytes, duration, result or failure), a run in progress, the schedule and its next run. ' +
        'Without FILE, the datasets that have a replication schedule in the namespace',
    )
    .argument('[file]', 'inventory YAML file')
    .option('--json', 'print an array of objects')
    .action(async (file: string | undefined, options: { json?: boolean }) => {
      const inventory = file ? requireInventory(file) : undefined;
      const rows = await withClient((client) => replicationStatus(client, inventory));
      const now = new Date();
      console.log(options.json ? JSON.stringify(statusToJson(rows, now), null, 2) : formatStatusTable(rows, now));
    });
}
