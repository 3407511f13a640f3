/**
 * provisionHost — the runbook from top to bottom, for one ESXi host and its storage VM:
 *
 *   "Configure Passthrough", reboot, the X1 active        → enablePassthrough (child)
 *   "Add Networking ... eSAN", the VMkernel NIC            → configureStorageNetwork (this host's, before the VM: its NIC needs the port group)
 *   "Create a new virtual machine", power on, boot order   → buildStorageVm (child)
 *   the storage VM's network, pool with its log, shares    → configureStorage (child)
 *   "Add Storage ... Network File System"                  → registerDatastore (child: the VM's shares on this host)
 *   after a reboot, the datastores that came back dead     → recoverDatastores (child: on every host that mounts them)
 *
 * Every step is a runbook that reads first and changes only what differs, so a re-run resumes from
 * what is already true. A step that fails stops this host (the later steps need it) and fails the
 * run with the per-step outcome as its details; a parent (provisionCluster) reads them.
 */
import { ApplicationFailure, executeChild, patched, proxyActivities, rootCause, setHandler } from '@temporalio/workflow';
import { Failure, NON_RETRYABLE } from '../core/failures';
import type { StepReport } from '../core/configure/shared';
import type { RecoverDatastoresResult } from '../core/datastore/recover';
import type { DatastoreActivities, RegisterDatastoreResult } from '../core/datastore/shared';
import {
  outcomeOf, PROVISION_HOST_STEPS, provisionHostStatusQuery, WorkflowIds,
  type ProvisionHostInput, type ProvisionHostResult, type ProvisionHostStep, type StepOutcome,
} from '../core/provision/shared';
import { Runbook, runSearchAttributes, type RunbookName } from '../core/search-attributes';
import { enablePassthrough } from './enable-passthrough';
import { buildStorageVm } from './build-storage-vm';
import { configureStorage } from './configure-storage';
import { registerDatastore } from './register-datastore';
import { recoverDatastores } from './recover-datastores';

const { configureStorageNetwork } = proxyActivities<DatastoreActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE.datastore] },
});

/** The failure's own message: a child's or an activity's cause, not the wrapper's "child workflow failed". */
export const failureReason = (error: unknown): string => rootCause(error) ?? String(error);

/** Every step's report lines joined: a child's result lists its own steps. */
const merged = (steps: { report: StepReport }[]): StepReport => ({
  found: steps.flatMap((s) => s.report.found),
  changed: steps.flatMap((s) => s.report.changed),
  warnings: steps.flatMap((s) => s.report.warnings),
});

/** What recoverDatastores found, refreshed and remounted, and what it had to leave inaccessible. */
function recoveryReport(result: RecoverDatastoresResult): StepReport {
  const report: StepReport = { found: [], changed: [], warnings: [] };
  for (const h of result.hosts) {
    report.found.push(...(h.refresh?.found ?? []));
    report.changed.push(...(h.refresh?.changed ?? []));
    for (const d of h.datastores) {
      const line = `${h.host}: datastore ${d.datastore} ${d.state}${d.reason ? ` (${d.reason})` : ''}`;
      if (d.state === 'remounted') report.changed.push(line);
      else if (d.state === 'inaccessible') report.warnings.push(line);
      else report.found.push(line);
    }
  }
  return report;
}

/** Whether this host's datastores of the VM were there before this run (found, not mounted now). */
const mountedBefore = (result: RegisterDatastoreResult, host: string) =>
  result.hosts.some((h) => h.host === host && h.steps.some((s) => s.step === 'mountNasDatastores' && s.report.found.length > 0));

const child = (runbook: RunbookName, workflowId: string, host: string, summary: string) => ({
  workflowId,
  typedSearchAttributes: runSearchAttributes(runbook, { host }),
  staticSummary: summary,
});

export async function provisionHost(input: ProvisionHostInput): Promise<ProvisionHostResult> {
  const { host, vm } = input;
  const steps = new Map<ProvisionHostStep, StepOutcome<ProvisionHostStep>>(
    PROVISION_HOST_STEPS.map((step) => [step, { step, state: 'pending', changed: [], warnings: [] }]),
  );
  let current: ProvisionHostStep | undefined;
  let failed: ProvisionHostStep | undefined;
  const result = (): ProvisionHostResult => ({ host, vm, steps: [...steps.values()], ...(failed && { failed }) });
  setHandler(provisionHostStatusQuery, () => ({ ...result(), ...(current && { current }) }));

  const run = async (step: ProvisionHostStep, workflowId: string | undefined, body: () => Promise<StepReport>) => {
    current = step;
    const startedAt = new Date().toISOString();
    steps.set(step, { step, state: 'running', startedAt, changed: [], warnings: [], ...(workflowId && { workflowId }) });
    try {
      const report = await body();
      steps.set(step, { ...steps.get(step)!, state: 'done', endedAt: new Date().toISOString(), ...outcomeOf(report) });
    } catch (error) {
      failed = step;
      steps.set(step, { ...steps.get(step)!, state: 'failed', endedAt: new Date().toISOString(), reason: failureReason(error) });
      for (const later of PROVISION_HOST_STEPS.slice(PROVISION_HOST_STEPS.indexOf(step) + 1)) {
        steps.set(later, { step: later, state: 'notRun', changed: [], warnings: [], reason: `${step} failed` });
      }
      throw ApplicationFailure.nonRetryable(`${host}: ${step} failed: ${failureReason(error)}`, Failure.ProvisionFailed, result());
    } finally {
      current = undefined;
    }
  };
  const skip = (step: ProvisionHostStep, reason: string) => steps.set(step, { step, state: 'skipped', changed: [], warnings: [], reason });

  const passthroughId = WorkflowIds.enablePassthrough(host);
  let rebooted = false;
  await run('enablePassthrough', passthroughId, async () => {
    const done = await executeChild(enablePassthrough, {
      ...child(Runbook.enablePassthrough, passthroughId, host, `passthrough on ${host}: enable, reboot, verify`), args: [input.passthrough],
    });
    rebooted = done.reboots > 0;
    return merged(done.steps);
  });

  if (input.storageNetwork) {
    const { host: ref, network } = input.storageNetwork;
    await run('configureStorageNetwork', undefined, () => configureStorageNetwork(ref, network));
  } else skip('configureStorageNetwork', 'the inventory gives this host no storageNetwork');

  const vmId = WorkflowIds.buildStorageVm(host);
  await run('buildStorageVm', vmId, async () => merged((await executeChild(buildStorageVm, {
    ...child(Runbook.buildStorageVm, vmId, host, `storage VM ${vm} on ${host}: create, power on, boot order`), args: [input.storageVm],
  })).steps));

  const configureId = WorkflowIds.configureStorage(vm);
  await run('configureStorage', configureId, async () => merged((await executeChild(configureStorage, {
    ...child(Runbook.configureStorage, configureId, vm, `configure ${vm}: network, names, pool, datasets, shares`), args: [input.configure],
  })).steps));

  let wereMounted = false;
  if (input.datastores && input.datastores.hosts.length > 0) {
    const id = WorkflowIds.registerDatastore(vm);
    await run('registerDatastore', id, async () => {
      const done = await executeChild(registerDatastore, {
        ...child(Runbook.registerDatastore, id, host, `${vm}'s shares as NFS datastores on ${host}`), args: [input.datastores!],
      });
      wereMounted = mountedBefore(done, host);
      return merged(done.hosts.flatMap((h) => h.steps));
    });
  } else skip('registerDatastore', `no share of ${vm} is to be mounted on ${host}`);

  if (!input.recover) skip('recoverDatastores', `no share of ${vm} is a datastore`);
  else if (!rebooted) skip('recoverDatastores', `${host} did not reboot in this run`);
  else if (!wereMounted) skip('recoverDatastores', `${vm}'s datastores on ${host} were mounted after the reboot`);
  else if (patched('recover-datastores-after-reboot')) {
    const id = WorkflowIds.recoverDatastores(vm);
    await run('recoverDatastores', id, async () => recoveryReport(await executeChild(recoverDatastores, {
      ...child(Runbook.recoverDatastores, id, vm, `${vm}'s datastores after ${host}'s reboot: wait for its exports, refresh, remount`), args: [input.recover!],
    })));
  }

  return result();
}
