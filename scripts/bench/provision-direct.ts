/**
 * bench:provision's baseline: what provisionCluster's runbooks do, without Temporal. The same
 * activities, called in this process in the order the workflows call them (hosts side by side,
 * each host's steps one after another, then the cluster's steps), each in a MockActivityEnvironment
 * (a Context for its heartbeats). The waits call the same wait activity again at once, where a
 * workflow sleeps WAIT_PAUSE between two calls. It mirrors, step for step:
 *   workflows/provision-cluster.ts, provision-host.ts, enable-passthrough.ts, build-storage-vm.ts,
 *   configure-storage.ts, register-datastore.ts, setup-replication-trust.ts (prepare, exchange).
 * A change to one of them must be made here too, or the baseline measures another runbook.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { createActivities } from '../../activities';
import type { ConfigureStorageInput } from '../../core/configure/shared';
import type { RegisterDatastoreInput } from '../../core/datastore/shared';
import type { EnablePassthroughInput } from '../../core/passthrough/shared';
import type { ProvisionClusterInput, ProvisionClusterStep, ProvisionHostInput, ProvisionHostStep } from '../../core/provision/shared';
import type { BuildStorageVmInput } from '../../core/storage-vm/shared';
import type { SetupReplicationTrustInput } from '../../core/trust/shared';
import { trustPlan } from '../../core/trust/ring';
import { TASK_QUEUE } from '../../workers/config';

type Activities = ReturnType<typeof createActivities>;
type Direct<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<R> : never };

/** One step's wall-clock span (ms since the epoch), as the workflows' results give theirs. */
export interface PhaseSpan {
  step: ProvisionHostStep | ProvisionClusterStep;
  host?: string;
  startedMs: number;
  endedMs: number;
}

export interface DirectRun {
  phases: PhaseSpan[];
  /** Activity calls made (a workflow's history has a few events per call). */
  calls: number;
  /** waitForSsh calls that failed before the VM answered (the workflow sleeps WAIT_PAUSE after each). */
  sshRetries: number;
}

/** A workflow's wait activity returns after at most this long (WAIT_SECONDS in the runbooks). */
const WAIT_SECONDS = 60;

export async function provisionDirectly(activities: Activities, input: ProvisionClusterInput): Promise<DirectRun> {
  const run: DirectRun = { phases: [], calls: 0, sshRetries: 0 };
  const a = Object.fromEntries(Object.entries(activities).map(([name, fn]) => [name, (...args: unknown[]) => {
    run.calls++;
    return new MockActivityEnvironment({ taskQueue: TASK_QUEUE, activityType: name }).run((...xs: unknown[]) => (fn as (...ys: unknown[]) => Promise<unknown>)(...xs), ...args);
  }])) as Direct<Activities>;

  const phase = async <T>(step: PhaseSpan['step'], host: string | undefined, body: () => Promise<T>): Promise<T> => {
    const startedMs = Date.now();
    const value = await body();
    run.phases.push({ step, ...(host && { host }), startedMs, endedMs: Date.now() });
    return value;
  };

  /** enablePassthrough: find, enable, (maintenance), reboot, wait, verify, (exit maintenance). */
  async function enablePassthrough(input: EnablePassthroughInput): Promise<void> {
    const { host } = input;
    const { device } = await a.findPassthroughDevice(host, input.device);
    if (device.passthruActive) return;
    await a.updatePassthruConfig(host, device.id);
    if (input.maintenanceMode) await a.enterMaintenanceMode(host, input.runningVms);
    await a.rebootHost(host, device.bootTime);
    const deadline = Date.now() + input.rebootTimeoutMs;
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      const state = await a.waitForHostReboot(host, { bootTimeBefore: device.bootTime, maxWaitSeconds: Math.max(1, Math.min(WAIT_SECONDS, left)) });
      if (state.back) break;
      if (Date.now() >= deadline) throw new Error(`${host.name} is not back after its reboot (${state.connectionState})`);
    }
    const after = (await a.findPassthroughDevice(host, { address: device.id })).device;
    if (!after.passthruActive) throw new Error(`${host.name}: ${device.id} is not active after the reboot (the baseline does not reboot twice)`);
    if (input.maintenanceMode) await a.exitMaintenanceMode(host);
  }

  /** buildStorageVm: find, create, power on, wait for the guest's address, then for SSH, boot order. */
  async function buildStorageVm(input: BuildStorageVmInput): Promise<void> {
    const { host, vm } = input;
    const found = await a.findPassthroughDevice(host, input.device);
    if (!found.device.passthruActive) throw new Error(`${host.name}: ${found.device.id} is not active for passthrough`);
    await a.createStorageVm(host, vm, found.device.id);
    await a.powerOnStorageVm(host, vm.name);
    const deadline = Date.now() + input.guestTimeoutMs;
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      const guest = await a.waitForGuest(host, { vmName: vm.name, address: input.ssh.address, maxWaitSeconds: Math.max(1, Math.min(WAIT_SECONDS, left)) });
      if (guest.ready) break;
      if (Date.now() >= deadline) throw new Error(`${vm.name} does not show ${input.ssh.address}`);
    }
    for (;;) {
      try {
        await a.waitForSsh(input.ssh);
        break;
      } catch (error) {
        if (Date.now() >= deadline) throw error;
        run.sshRetries++;
        await sleep(200);
      }
    }
    await a.configureBootOrder(host, { vmName: vm.name, datastores: input.bootOrder.datastores });
  }

  /** configureStorage: OS, network, then names beside pool and datasets, shares, (management address). */
  async function configureStorage(input: ConfigureStorageInput): Promise<void> {
    const { network, pool, datasets } = input;
    const reached = await a.checkGuestOs(input.host, input.reachAt);
    const host = { ...input.host, address: reached.address };
    await a.configureNetwork(host, network);
    await Promise.all([
      a.configureNameResolution(host, network),
      (async () => {
        await a.createPool(host, pool);
        await a.configureDatasets(host, { datasets, memoryGiB: input.memoryGiB });
      })(),
    ]);
    await a.shareDatasets(host, datasets);
    if (reached.address !== input.host.address) await a.switchManagementAddress(host, { network });
  }

  /** registerDatastore: per listed host, side by side: its storage network, then the mounts. */
  async function registerDatastore(input: RegisterDatastoreInput): Promise<void> {
    await Promise.all(input.hosts.map(async ({ host, storageNetwork, mounts }) => {
      if (storageNetwork) await a.configureStorageNetwork(host, storageNetwork);
      await a.mountNasDatastores(host, mounts);
    }));
  }

  /** setupReplicationTrust: prepare every host, exchange keys, close stale connections where authorization changed. */
  async function setupReplicationTrust(input: SetupReplicationTrustInput): Promise<void> {
    const plan = trustPlan(input);
    const { user } = plan;
    const prepared = new Map(await Promise.all(plan.hosts.map(async (host) => {
      await a.ensureReplicationUser(host, user, { allowSystemUser: input.allowSystemUser });
      const key = await a.ensureReplicationKey(host, user);
      const guard = await a.installReceiveGuard(host, { user, datasets: plan.receives.get(host.name)! });
      return [host.name, { publicKey: key.publicKey, guardChanged: guard.changed.length > 0 }] as const;
    })));
    const authorized = await Promise.all(plan.hosts.map(async (host) => {
      const [auth] = await Promise.all([
        a.authorizeReplicationKeys(host, {
          user,
          sources: plan.sourcesOf.get(host.name)!.map(({ source, datasets }) => ({
            name: source.name, storageAddress: source.storageAddress, publicKey: prepared.get(source.name)!.publicKey, datasets,
          })),
        }),
        a.pinReplicationHostKeys(host, {
          user,
          targets: plan.targetsOf.get(host.name)!.map((t) => ({ name: t.name, storageAddress: t.storageAddress, ...(t.port !== undefined ? { port: t.port } : {}), hostKey: t.hostKey })),
        }),
      ]);
      return auth.changed.length > 0;
    }));
    const changedTargets = new Set(plan.hosts.filter((h, i) => prepared.get(h.name)!.guardChanged || authorized[i]).map((h) => h.name));
    await Promise.all(plan.hosts.map(async (host) => {
      const targets = plan.targetsOf.get(host.name)!.filter((t) => changedTargets.has(t.name));
      if (targets.length > 0) await a.closeStaleConnections(host, { user, targets });
    }));
  }

  async function provisionHost(input: ProvisionHostInput): Promise<void> {
    const { host } = input;
    await phase('enablePassthrough', host, () => enablePassthrough(input.passthrough));
    if (input.storageNetwork) {
      const { host: ref, network } = input.storageNetwork;
      await phase('configureStorageNetwork', host, () => a.configureStorageNetwork(ref, network));
    }
    await phase('buildStorageVm', host, () => buildStorageVm(input.storageVm));
    await phase('configureStorage', host, () => configureStorage(input.configure));
    if (input.datastores && input.datastores.hosts.length > 0) await phase('registerDatastore', host, () => registerDatastore(input.datastores!));
  }

  await phase('provisionHosts', undefined, () => Promise.all(input.hosts.map(provisionHost)));
  await phase('registerDatastores', undefined, () => Promise.all(input.datastores.map(registerDatastore)));
  if (input.trust && input.trust.edges.length > 0) await phase('setupReplicationTrust', undefined, () => setupReplicationTrust(input.trust!));
  if (input.trust && input.schedules.length > 0) await phase('applyReplicationSchedules', undefined, () => a.applyReplicationSchedules(input.schedules));
  return run;
}
