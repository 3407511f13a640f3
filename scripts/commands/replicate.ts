import type { Command } from 'commander';
import { failureMessage } from '../failure-message';
import { requireInventory } from '../../inventory/load';
import { findJob } from '../../inventory/jobs';
import { workflowUiLink } from '../../workers/config';
import { withClient } from '../temporal-client';
import { startReplication } from '../replication-start';
import { formatBytes } from '../../core/format';
import { followReplication } from '../progress';
import type { ReplicationResult } from '../../core/replication/shared';

export function formatResult(result: ReplicationResult): string {
  const lines = [
    `${result.source} -> ${result.target}: ${result.kind}${result.base ? ` from @${result.base}` : ''} to @${result.snapshot}`,
    `  ${formatBytes(result.bytes)} in ${(result.durationMs / 1000).toFixed(1)} s (stream ${formatBytes(result.bytesPerSecond)}/s)`,
  ];
  if (result.rolledBackTo) lines.push(`  target rolled back to @${result.rolledBackTo} (policy allows it)`);
  if (result.pruned.source.length + result.pruned.target.length > 0) {
    lines.push(`  pruned: source ${result.pruned.source.join(', ') || 'none'}; target ${result.pruned.target.join(', ') || 'none'}`);
  }
  for (const change of result.replicaChanged ?? []) lines.push(`  replica: ${change}`);
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

export function registerReplicate(program: Command): void {
  program
    .command('replicate')
    .description('replicate one dataset now (workflow replicateDataset); one run per dataset at a time')
    .argument('<file>', 'inventory YAML file')
    .requiredOption('--dataset <dataset>', 'source dataset, e.g. sp1/nas/vol0 (or VM:dataset)')
    .option('--wait', 'follow the run with a live progress display and print its result')
    .option('--json', 'with --wait: print the result as JSON')
    .action(async (file: string, options: { dataset: string; wait?: boolean; json?: boolean }) => {
      const job = findJob(requireInventory(file), options.dataset);
      await withClient(async (client) => {
        const { handle, started } = await startReplication(client, job);
        const link = workflowUiLink(handle.workflowId);
        console.error(started ? `started ${handle.workflowId}: ${link}` : `a run of ${job.source.dataset} is already in progress: ${link}`);
        if (!options.wait) return;
        // Ctrl-C stops following, not the run: say so, and where to find it.
        const detach = () => {
          console.error(`\nstopped following ${handle.workflowId}; the run continues on the worker: ${link}`);
          console.error(`to stop the run itself: temporal workflow cancel --workflow-id '${handle.workflowId}'`);
          process.exit(130);
        };
        process.once('SIGINT', detach);
        try {
          const result = await followReplication<ReplicationResult>(client, handle, process.stderr.isTTY && !options.json);
          console.log(options.json ? JSON.stringify(result) : formatResult(result));
        } catch (error) {
          console.error(`replication of ${job.source.host.name}:${job.source.dataset} -> ${job.target.host.name}:${job.target.dataset} failed: ${failureMessage(error)}`);
          process.exitCode = 1;
        } finally {
          process.removeListener('SIGINT', detach);
        }
      });
    });
}
