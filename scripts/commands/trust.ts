/**
 * `esxi-zfs trust FILE [--wait] [--json]`: starts setupReplicationTrust for the inventory's
 * replication ring (every job is an edge source VM → target VM with its target dataset).
 */
import { Runbook, runSearchAttributes } from '../../core/search-attributes';
import { WorkflowIds } from '../../core/provision/shared';
import { setupReplicationTrust } from '../../workflows';
import type { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { requireInventory } from '../../inventory/load';
import { replicationTrustInput } from '../../inventory/jobs';
import { TASK_QUEUE, workflowUiLink } from '../../workers/config';
import { withClient } from '../temporal-client';
import type { SetupReplicationTrustResult } from '../../core/trust/shared';

export const TRUST_WORKFLOW_ID = WorkflowIds.setupReplicationTrust;

export function formatTrustResult(result: SetupReplicationTrustResult): string {
  const lines: string[] = [];
  for (const h of result.hosts) {
    const changes = h.steps.reduce((n, s) => n + s.changed.length, 0);
    lines.push(`${h.host}: ${changes === 0 ? 'in place' : `${changes} change(s)`}; receives ${h.receives.join(', ') || 'nothing'}; authorizes ${h.authorizes.join(', ') || 'no one'}; pins ${h.pins.join(', ') || 'no one'}`);
    lines.push(`  key ${h.publicKey}`);
    for (const s of h.steps) {
      for (const c of s.changed) lines.push(`  ${s.step}: ${c}`);
      for (const w of s.warnings) lines.push(`  ${s.step}: warning: ${w}`);
    }
  }
  lines.push(result.changes === 0 ? `replication user ${result.user}: nothing to change` : `replication user ${result.user}: ${result.changes} change(s)`);
  return lines.join('\n');
}

export function registerTrust(program: Command): void {
  program
    .command('trust')
    .description('set up the replication user, keys, receive guard, authorized keys and pinned host keys on every storage VM (workflow setupReplicationTrust)')
    .argument('<file>', 'inventory YAML file')
    .option('--wait', 'wait for the result and print what changed')
    .option('--json', 'with --wait: print the result as JSON')
    .action(async (file: string, options: { wait?: boolean; json?: boolean }) => {
      const inventory = requireInventory(file);
      const input = replicationTrustInput(inventory);
      await withClient(async (client) => {
        let handle;
        try {
          handle = await client.workflow.start(setupReplicationTrust, {
            taskQueue: TASK_QUEUE,
            workflowId: TRUST_WORKFLOW_ID,
            args: [input],
            typedSearchAttributes: runSearchAttributes(Runbook.trust, { hosts: input.hosts.map((h) => h.name) }),
            staticSummary: `replication trust for ${input.hosts.map((h) => h.name).join(', ')}`,
          });
        } catch (error) {
          if (error instanceof WorkflowExecutionAlreadyStartedError) {
            throw new Error(`setupReplicationTrust is already running (workflow ${TRUST_WORKFLOW_ID}: ${workflowUiLink(TRUST_WORKFLOW_ID)}); wait for it to finish`, { cause: error });
          }
          throw error;
        }
        if (!options.json) console.log(`workflow ${TRUST_WORKFLOW_ID}: ${workflowUiLink(TRUST_WORKFLOW_ID, handle.firstExecutionRunId)}`);
        if (!options.wait) return;
        const result = await handle.result();
        console.log(options.json ? JSON.stringify(result, null, 2) : formatTrustResult(result));
      });
    });
}
