import type { Command } from 'commander';
import { Runbook, runSearchAttributes } from '../../core/search-attributes';
import { cloneReplica } from '../../workflows';
import { requireInventory } from '../../inventory/load';
import { findJob } from '../../inventory/jobs';
import type { ReplicationJob } from '../../core/replication/shared';
import { findStorageVm } from '../../inventory/targets';
import { shareSpec } from '../../inventory/configure';
import { TASK_QUEUE, workflowUiLink } from '../../workers/config';
import { withClient } from '../temporal-client';
import { failureMessage } from '../failure-message';

/** The runbook's layout: sp2/nas/vol0 from uss1 is cloned as sp2/clones/uss1/nas/vol0. */
export function defaultCloneName(job: ReplicationJob): string {
  const [targetPool] = job.target.dataset.split('/');
  const rest = job.source.dataset.split('/').slice(1).join('/');
  return `${targetPool}/clones/${job.source.host.name}${rest ? `/${rest}` : ''}`;
}

export function registerCloneReplica(program: Command): void {
  program
    .command('clone-replica')
    .description("clone the newest replicated snapshot on the target (mountpoint and sharenfs of the source); the replica itself is never touched, so replication stays incremental")
    .argument('<file>', 'inventory YAML file')
    .requiredOption('--dataset <dataset>', 'source dataset whose replica to clone, e.g. sp1/nas/vol0')
    .option('--name <clone>', 'clone dataset (default <target pool>/clones/<source VM>/<dataset>)')
    .option('--replace', 'destroy an existing clone of an older snapshot first')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, options: { dataset: string; name?: string; replace?: boolean; json?: boolean }) => {
      const inventory = requireInventory(file);
      const job = findJob(inventory, options.dataset);
      const source = findStorageVm(inventory, job.source.host.name).datasets.find((d) => d.name === job.source.dataset);
      const input = {
        replica: job.target,
        clone: options.name ?? defaultCloneName(job),
        mountpoint: source?.mountpoint,
        share: source?.share && shareSpec(source.share),
        replace: options.replace ?? false,
      };
      const workflowId = `clone-replica:${job.target.host.name}:${input.clone}`;
      await withClient(async (client) => {
        console.error(`workflow ${workflowId}: ${workflowUiLink(workflowId)}`);
        try {
          const result = await client.workflow.execute(cloneReplica, {
            taskQueue: TASK_QUEUE,
            workflowId,
            args: [input],
            typedSearchAttributes: runSearchAttributes(Runbook.cloneReplica, { host: job.target.host.name, dataset: job.source.dataset }),
            staticSummary: `clone the newest replica of ${job.target.host.name}:${job.target.dataset} as ${input.clone}`,
          });
          if (options.json) console.log(JSON.stringify(result));
          else {
            console.log(`${result.clone} is a clone of ${result.origin}${result.changed.length === 0 ? ' (already in place)' : ''}`);
            for (const change of result.changed) console.log(`  ${change}`);
            for (const warning of result.warnings) console.log(`  warning: ${warning}`);
          }
        } catch (error) {
          console.error(`clone-replica failed: ${failureMessage(error)}`);
          process.exitCode = 1;
        }
      });
    });
}
