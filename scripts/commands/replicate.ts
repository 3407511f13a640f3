import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { requireInventory } from '../../inventory/load';
import { findJob } from '../../inventory/jobs';
import { workflowUiLink } from '../../workers/config';
import { withClient } from '../temporal-client';
import { startReplication } from '../replication-start';
import { followReplication, formatBytes } from '../progress';
import type { ReplicationResult } from '../../workflows/replication-types';

/** The innermost message of a failed run: what the operator must read. */
export function failureMessage(error: unknown): string {
  let cause: unknown = error instanceof WorkflowFailedError ? error.cause : error;
  while (cause && typeof cause === 'object' && 'cause' in cause && (cause as { cause?: unknown }).cause) {
    cause = (cause as { cause: unknown }).cause;
  }
  return cause instanceof Error ? cause.message : String(cause);
}

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
        try {
          const result = await followReplication<ReplicationResult>(client, handle, process.stderr.isTTY && !options.json);
          console.log(options.json ? JSON.stringify(result) : formatResult(result));
        } catch (error) {
          console.error(`replication failed: ${failureMessage(error)}`);
          process.exitCode = 1;
        }
      });
    });
}
