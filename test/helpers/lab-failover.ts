/**
 * What the failover lab tests share: the lab's inventory with the vSphere simulator as its
 * vSphere and the first storage VM's first dataset a datastore on vh1 and vh2 (trust and that
 * datastore set up), and the simulator's view of an ESXi host's NFS datastores.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';
import { registerDatastore, setupReplicationTrust } from '../../workflows';
import { registerDatastoreInput } from '../../inventory/datastore';
import { replicationTrustInput } from '../../inventory/jobs';
import { parseInventory } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { HostSystem, Session, retrieveOne, type HostNasVolume } from '../../activities/vsphere';
import type { LabState } from '../../lab/lab';
import type { VsphereSim } from '../../lab/vsphere';
import type { TestTemporal } from './temporal';

/**
 * Writes that inventory to `file` and returns it, once replication trust is set up and the
 * datastore mounted (workflow ids `<ids>-trust` and `<ids>-datastore`).
 */
export async function failoverLabInventory(
  lab: LabState, sim: VsphereSim, temporal: TestTemporal,
  opts: { passwordEnv: string; datastore: string; file: string; ids: string },
): Promise<Inventory> {
  const doc = YAML.parse(readFileSync(lab.inventoryFile, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  doc.credentials.vsphere = { user: sim.username, passwordEnv: opts.passwordEnv };
  doc.vsphere = { url: sim.url, credentials: 'vsphere', thumbprint: sim.thumbprint };
  doc.hosts[0].storageVm.datasets[0].datastore = { name: opts.datastore, mountOn: ['vh1', 'vh2'] };
  const text = YAML.stringify(doc);
  writeFileSync(opts.file, text);
  const loaded = parseInventory(text, opts.file);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  const { inventory } = loaded;
  await temporal.withWorker(async () => {
    await temporal.client.workflow.execute(setupReplicationTrust, { taskQueue: temporal.taskQueue, workflowId: `${opts.ids}-trust`, args: [replicationTrustInput(inventory)] });
    await temporal.client.workflow.execute(registerDatastore, { taskQueue: temporal.taskQueue, workflowId: `${opts.ids}-datastore`, args: [registerDatastoreInput(inventory, lab.hosts[0]!.name)] });
  });
  return inventory;
}

/** `fn` with a session to the simulator and its ESXi host `host`. */
export async function withSimHost<T>(sim: VsphereSim, host: string, fn: (session: Session, h: HostSystem) => Promise<T>): Promise<T> {
  const session = await Session.connect({ url: sim.url, trust: { thumbprint: sim.thumbprint } });
  try {
    await session.login({ userName: sim.username, password: sim.password });
    return await fn(session, await HostSystem.find(session, host));
  } finally {
    await session.close();
  }
}

/** `name remoteHost:remotePath` of every NFS datastore of an ESXi host, sorted. */
export async function nfsDatastoresOf(session: Session, h: HostSystem): Promise<string[]> {
  const all = await Promise.all((await (await h.datastoreSystem()).datastores()).map(async (d) => {
    const p = await retrieveOne(session, d, ['summary.name', 'info']);
    const nas = (p.info as { nas?: HostNasVolume }).nas;
    return nas ? [`${String(p['summary.name'])} ${nas.remoteHost}:${nas.remotePath}`] : [];
  }));
  return all.flat().sort();
}
