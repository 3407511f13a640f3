/**
 * provisionCluster — every ESXi host of the inventory from bare to replicated, shared storage:
 *
 *   each host, side by side: provisionHost (passthrough, storage network, VM, storage, its own datastores)
 *   then, for the hosts that made it:
 *     each VM's shares on every host that lists them          → registerDatastore (children)
 *     replication trust for the ring                          → setupReplicationTrust (child)
 *     one schedule per replicated dataset                     → applyReplicationSchedules
 *
 * A host that fails does not stop the others; what needs it (its shares, its replication edges)
 * is skipped and named. The result says per host and per step what was done, skipped or failed;
 * a run with a failure fails with that result as its details, after every host had its turn.
 * Nothing in the input is a secret: credentials are names the activities resolve.
 */
import { ApplicationFailure, executeChild, proxyActivities, setHandler } from '@temporalio/workflow';
import { Failure } from '../core/failures';
import {
  outcomeOf, PROVISION_CLUSTER_STEPS, provisionClusterStatusQuery, WorkflowIds,
  type ProvisionClusterInput, type ProvisionClusterResult, type ProvisionClusterStatus, type ProvisionClusterStep,
  type ProvisionHostInput, type ProvisionHostResult, type StepOutcome,
} from '../core/provision/shared';
import type { RegisterDatastoreInput } from '../core/datastore/shared';
import type { SetupReplicationTrustInput } from '../core/trust/shared';
import type { ReplicationJob } from '../core/replication/shared';
import { Runbook, runSearchAttributes } from '../core/search-attributes';
import type { ApplyResult } from '../activities/schedules/apply';
import { failureReason, provisionHost } from './provision-host';
import { registerDatastore } from './register-datastore';
import { setupReplicationTrust } from './setup-replication-trust';

const { applyReplicationSchedules } = proxyActivities<{ applyReplicationSchedules(jobs: ReplicationJob[]): Promise<ApplyResult> }>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5 },
});

/** A failed child's per-step outcome (its failure's details); none when it ended otherwise (terminated, timed out). */
function failedHost(input: ProvisionHostInput, error: unknown): ProvisionHostResult {
  let e = error as { details?: unknown[]; cause?: unknown } | undefined;
  while (e && !(e.details && e.details.length > 0) && e.cause) e = e.cause as typeof e;
  const details = e?.details?.[0] as ProvisionHostResult | undefined;
  return details?.steps ? details : { host: input.host, vm: input.vm, steps: [] };
}

export async function provisionCluster(input: ProvisionClusterInput): Promise<ProvisionClusterResult> {
  const hostState = new Map<string, ProvisionClusterStatus['hosts'][number]>(
    input.hosts.map((h) => [h.host, { host: h.host, vm: h.vm, state: 'pending', workflowId: WorkflowIds.provisionHost(h.host) }]),
  );
  const steps = new Map<ProvisionClusterStep, StepOutcome<ProvisionClusterStep>>(
    PROVISION_CLUSTER_STEPS.map((step) => [step, { step, state: 'pending', changed: [], warnings: [] }]),
  );
  setHandler(provisionClusterStatusQuery, () => ({ hosts: [...hostState.values()], steps: [...steps.values()] }));
  const failures: string[] = [];
  const begin = (step: ProvisionClusterStep) => steps.set(step, { step, state: 'running', startedAt: new Date().toISOString(), changed: [], warnings: [] });
  const end = (step: ProvisionClusterStep, outcome: Partial<StepOutcome<ProvisionClusterStep>>) =>
    steps.set(step, { ...steps.get(step)!, endedAt: new Date().toISOString(), state: 'done', ...outcome });

  // 1. Every host side by side.
  begin('provisionHosts');
  const ok = new Set<string>();
  const okVms = new Set<string>();
  const hosts = await Promise.all(input.hosts.map(async (h): Promise<ProvisionHostResult> => {
    hostState.set(h.host, { ...hostState.get(h.host)!, state: 'running' });
    try {
      const result = await executeChild(provisionHost, {
        workflowId: WorkflowIds.provisionHost(h.host),
        args: [h],
        typedSearchAttributes: runSearchAttributes(Runbook.provisionHost, { host: h.host }),
        staticSummary: `provision ${h.host} and its storage VM ${h.vm}`,
      });
      hostState.set(h.host, { ...hostState.get(h.host)!, state: 'done' });
      ok.add(h.host);
      okVms.add(h.vm);
      return result;
    } catch (error) {
      const result = failedHost(h, error);
      const step = result.failed;
      hostState.set(h.host, { ...hostState.get(h.host)!, state: 'failed', ...(step && { failed: step }) });
      const reason = result.steps.find((s) => s.step === step)?.reason ?? failureReason(error);
      failures.push(step ? `${h.host}: ${step}: ${reason}` : `${h.host}: ${reason}`);
      return result;
    }
  }));
  const failedHosts = input.hosts.filter((h) => !ok.has(h.host)).map((h) => h.host);
  end('provisionHosts', { changed: hosts.flatMap((h) => h.steps.flatMap((s) => s.changed.map((c) => `${h.host}: ${s.step}: ${c}`))) });
  const skippedFor = failedHosts.length > 0 ? ` (skipped for ${failedHosts.join(', ')}: failed)` : '';

  // 2. Each VM's shares on every host that lists them, where both the VM's host and that host made it.
  //    A host the inventory lists without a storage VM of its own is always ready.
  const provisioned = new Set(input.hosts.map((h) => h.host));
  const ready = (name: string) => ok.has(name) || !provisioned.has(name);
  begin('registerDatastores');
  const mounts: RegisterDatastoreInput[] = input.datastores
    .filter((d) => okVms.has(d.vm))
    .map((d) => ({ ...d, hosts: d.hosts.filter((m) => ready(m.host.name)) }))
    .filter((d) => d.hosts.length > 0);
  const mounted = await Promise.all(mounts.map(async (d) => {
    try {
      const result = await executeChild(registerDatastore, {
        workflowId: WorkflowIds.registerDatastore(d.vm),
        args: [d],
        typedSearchAttributes: runSearchAttributes(Runbook.registerDatastore, { hosts: d.hosts.map((m) => m.host.name) }),
        staticSummary: `${d.vm}'s shares as NFS datastores on ${d.hosts.map((m) => m.host.name).join(', ')}`,
      });
      return result.hosts.flatMap((h) => h.steps.flatMap((s) => outcomeOf(s.report).changed.map((c) => `${h.host}: ${c}`)));
    } catch (error) {
      failures.push(`${d.vm}: registerDatastore: ${failureReason(error)}`);
      return [];
    }
  }));
  end('registerDatastores', {
    changed: mounted.flat(),
    ...(mounts.length < input.datastores.length && { reason: `some shares were not mounted${skippedFor}` }),
  });

  // 3. Trust on the edges whose both ends made it, then their schedules.
  const edgeOk = (source: string, target: string) => okVms.has(source) && okVms.has(target);
  const trust: SetupReplicationTrustInput | undefined = input.trust && {
    ...input.trust,
    hosts: input.trust.hosts.filter((h) => okVms.has(h.name)),
    edges: input.trust.edges.filter((e) => edgeOk(e.source.name, e.target.name)),
  };
  let trusted = false;
  if (!trust || trust.edges.length === 0) {
    steps.set('setupReplicationTrust', { step: 'setupReplicationTrust', state: 'skipped', changed: [], warnings: [], reason: `no replication edge between provisioned storage VMs${skippedFor}` });
  } else {
    begin('setupReplicationTrust');
    try {
      const result = await executeChild(setupReplicationTrust, {
        workflowId: WorkflowIds.setupReplicationTrust,
        args: [trust],
        typedSearchAttributes: runSearchAttributes(Runbook.trust, { hosts: trust.hosts.map((h) => h.name) }),
        staticSummary: `replication trust for ${trust.edges.length} edge(s) of the ring`,
      });
      trusted = true;
      end('setupReplicationTrust', {
        changed: result.hosts.flatMap((h) => h.steps.flatMap((s) => s.changed.map((c) => `${h.host}: ${c}`))),
        warnings: result.hosts.flatMap((h) => h.steps.flatMap((s) => s.warnings.map((w) => `${h.host}: ${w}`))),
      });
    } catch (error) {
      failures.push(`setupReplicationTrust: ${failureReason(error)}`);
      end('setupReplicationTrust', { state: 'failed', reason: failureReason(error) });
    }
  }

  const jobs = trusted ? input.schedules.filter((j) => edgeOk(j.source.host.name, j.target.host.name)) : [];
  if (jobs.length === 0) {
    steps.set('applyReplicationSchedules', { step: 'applyReplicationSchedules', state: 'skipped', changed: [], warnings: [], reason: trusted ? 'no replicated dataset has a schedule' : 'no trust: nothing to schedule' });
  } else {
    begin('applyReplicationSchedules');
    const applied = await applyReplicationSchedules(jobs);
    end('applyReplicationSchedules', {
      changed: [...applied.created.map((id) => `created ${id}`), ...applied.updated.map((id) => `updated ${id}: ${applied.changes[id]?.join('; ')}`)],
    });
  }

  const result: ProvisionClusterResult = { hosts, steps: [...steps.values()], failures };
  if (failures.length > 0) {
    throw ApplicationFailure.nonRetryable(`provisioning failed: ${failures.join('; ')}`, Failure.ProvisionFailed, result);
  }
  return result;
}
