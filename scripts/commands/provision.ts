/**
 * `esxi-zfs provision FILE [--host NAME ...] [--wait] [--json]`: the whole runbook. Without --host
 * one provisionCluster run (`provision-cluster`: every host side by side, then the shares on every
 * host that lists them, trust for the ring, the schedules); with --host one provisionHost run per
 * host named (`provision-host/<host>`). Starting twice attaches to the running run. The inventory
 * is validated before anything starts. With --wait a live display per host and step from the
 * runs' queries, then the result; exit 0 only when every step succeeded.
 */
import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { provisionCluster, provisionHost } from '../../workflows';
import { Runbook, runSearchAttributes } from '../../core/search-attributes';
import { WorkflowIds, type ProvisionClusterResult, type ProvisionHostResult, type StepOutcome } from '../../core/provision/shared';
import { requireInventory } from '../../inventory/load';
import { provisionClusterInput, provisionHostInput } from '../../inventory/provision';
import { failureMessage } from '../failure-message';
import { followProvisioning } from '../provision-display';
import { startOrFollow } from '../start-runs';
import { withClient } from '../temporal-client';

const stepLines = (prefix: string, s: StepOutcome) => {
  const head = `${prefix}${s.step}: ${s.state}${s.state === 'done' && s.changed.length === 0 ? ' (nothing changed)' : ''}${s.reason && s.state !== 'done' ? `: ${s.reason}` : ''}`;
  return [head, ...s.changed.map((c) => `${prefix}  changed: ${c}`), ...s.warnings.map((w) => `${prefix}  warning: ${w}`)];
};

export function formatHostResult(r: ProvisionHostResult): string {
  return [`${r.host} (storage VM ${r.vm}): ${r.failed ? `failed at ${r.failed}` : 'provisioned'}`, ...r.steps.flatMap((s) => stepLines('  ', s))].join('\n');
}

export function formatClusterResult(r: ProvisionClusterResult): string {
  const lines = r.hosts.map(formatHostResult);
  lines.push(...r.steps.filter((s) => s.step !== 'provisionHosts').flatMap((s) => stepLines('cluster ', s)));
  if (r.failures.length > 0) lines.push(`failed:\n${r.failures.map((f) => `  ${f}`).join('\n')}`);
  return lines.join('\n');
}

/** A run's result, or the per-step result its failure carries (provisionHost and provisionCluster fail with it as details). */
async function outcome<R>(result: Promise<R>): Promise<{ result?: R; failed?: string }> {
  try {
    return { result: await result };
  } catch (error) {
    const details = error instanceof WorkflowFailedError ? (error.cause as { details?: unknown[] } | undefined)?.details?.[0] : undefined;
    return { ...(details !== undefined && { result: details as R }), failed: failureMessage(error) };
  }
}

export function registerProvision(program: Command): void {
  program
    .command('provision')
    .description('the whole runbook from bare ESXi hosts: passthrough and reboot, storage network, storage VM, pool and shares, NFS datastores, then replication trust and schedules (workflow provisionCluster, or provisionHost with --host)')
    .argument('<file>', 'inventory YAML file')
    .option('--host <name...>', 'only these ESXi hosts, each on its own (no cross-host mounts, trust or schedules)')
    .option('--wait', 'show each host\'s step live, then the result; exit 1 unless every step succeeded')
    .option('--json', 'with --wait: print the result as JSON (no live display)')
    .action(async (file: string, options: { host?: string[]; wait?: boolean; json?: boolean }) => {
      const inventory = requireInventory(file);
      await withClient(async (client) => {
        let results: { name: string; run: Promise<{ result?: unknown; failed?: string }>; format: (r: never) => string }[];
        let hosts: string[];
        let clusterId: string | undefined;
        if (options.host) {
          const inputs = options.host.map((name) => provisionHostInput(inventory, name));
          hosts = inputs.map((i) => i.host);
          const handles = await startOrFollow(client, provisionHost, inputs.map((input) => ({
            workflowId: WorkflowIds.provisionHost(input.host),
            args: [input],
            searchAttributes: runSearchAttributes(Runbook.provisionHost, { host: input.host }),
            summary: `provision ${input.host} and its storage VM ${input.vm}`,
          })), options.json);
          results = handles.map((h, i) => ({ name: hosts[i]!, run: outcome(h.result()), format: formatHostResult }));
        } else {
          const input = provisionClusterInput(inventory);
          hosts = input.hosts.map((h) => h.host);
          clusterId = WorkflowIds.provisionCluster;
          const [handle] = await startOrFollow(client, provisionCluster, [{
            workflowId: clusterId,
            args: [input],
            searchAttributes: runSearchAttributes(Runbook.provisionCluster, { hosts }),
            summary: `provision ${hosts.join(', ')}: hosts, datastores, trust, schedules`,
          }], options.json);
          results = [{ name: 'cluster', run: outcome(handle!.result()), format: formatClusterResult }];
        }
        if (!options.wait) return;
        const settled = Promise.all(results.map((r) => r.run));
        if (!options.json) await followProvisioning(client, hosts, clusterId, settled);
        const outcomes = await settled;
        if (options.json) console.log(JSON.stringify(outcomes.map((o, i) => ({ name: results[i]!.name, ...o })), null, 2));
        else for (const [i, o] of outcomes.entries()) if (o.result) console.log(results[i]!.format(o.result as never));
        const failed = outcomes.flatMap((o, i) => (o.failed ? [`${results[i]!.name}: ${o.failed}`] : []));
        if (failed.length > 0) throw new Error(`provisioning failed:\n${failed.join('\n')}`);
      });
    });
}
