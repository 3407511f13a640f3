/**
 * recoverDatastores' vSphere side, on one ESXi host. For NFS there is no HBA or VMFS to rescan
 * (RescanAllHba and RescanVmfs look at block storage): the host re-reads its storage with
 * RefreshStorageSystem, and each datastore with RefreshDatastore. A datastore's state is this host's
 * view of it (`host[].mountInfo.accessible`; `summary.accessible` when the server gives no per-host
 * view) and the power state of each VM with files on it. A remount reads all that again first and
 * goes on only if core/datastore/recover.ts `decide` still says so.
 */
import type { StepReport } from '../../core/configure/shared';
import { decide, type DatastoreOutcome, type DatastoreView, type RecoverDatastoresActivities } from '../../core/datastore/recover';
import type { NasMountSpec } from '../../core/datastore/shared';
import type { EsxiHostRef } from '../../core/passthrough/shared';
import { startHeartbeat } from '../heartbeat';
import { nfsType } from './datastore';
import {
  Datastore, HostSystem, retrieveOne, VimFault, type DatastoreHostMount, type HostMountMode, type HostNasVolume, type HostNasVolumeSpec,
  type ManagedObjectReference,
} from './index';
import type { VsphereSessions } from './sessions';

interface Found {
  /** Absent: the host has no datastore of that name. */
  ref?: ManagedObjectReference;
  view: DatastoreView;
  nas?: HostNasVolume;
  accessMode?: HostMountMode;
}

/** The datastore the previous attempt unmounted and had not mounted again: a retry mounts it. */
interface RemountHeartbeat {
  unmounted?: string;
}

export function createRecoverActivities(deps: { sessions: VsphereSessions }): Omit<RecoverDatastoresActivities, 'checkNfsExports'> {
  const hostSystem = async (ref: EsxiHostRef) => HostSystem.find(await deps.sessions.session(ref.vsphere), ref.name);

  async function runningVms(host: HostSystem, datastore: ManagedObjectReference): Promise<string[]> {
    const vms = ((await retrieveOne(host.client, datastore, ['vm'])).vm ?? []) as ManagedObjectReference[];
    const states = await Promise.all(vms.map((vm) => retrieveOne(host.client, vm, ['name', 'runtime.powerState'])));
    return states.filter((p) => p['runtime.powerState'] === 'poweredOn').map((p) => String(p.name)).sort();
  }

  /** The host's datastores of these names, as the host sees them (absent ones without `seen`). */
  async function find(host: HostSystem, names: string[]): Promise<Found[]> {
    const refs = await (await host.datastoreSystem()).datastores();
    const found = await Promise.all(refs.map(async (ref): Promise<Found | undefined> => {
      const p = await retrieveOne(host.client, ref, ['summary.name', 'summary.accessible', 'summary.type', 'info', 'host']);
      const name = String(p['summary.name']);
      if (!names.includes(name)) return undefined;
      const nas = (p.info as { nas?: HostNasVolume } | undefined)?.nas;
      const mount = ((p.host ?? []) as DatastoreHostMount[]).find((m) => m.key.value === host.ref.value)?.mountInfo;
      return {
        ref, nas, accessMode: mount?.accessMode,
        view: {
          datastore: name,
          seen: {
            export: nas ? `${nas.remoteHost}:${nas.remotePath}` : `a ${String(p['summary.type'])} datastore`,
            accessible: mount?.accessible ?? p['summary.accessible'] === true,
            ...(mount?.inaccessibleReason && { reason: mount.inaccessibleReason }),
            runningVms: await runningVms(host, ref),
          },
        },
      };
    }));
    return names.map((name) => found.find((f) => f?.view.datastore === name) ?? { view: { datastore: name } });
  }

  const specOf = (m: NasMountSpec, was?: Found): HostNasVolumeSpec => ({
    remoteHost: m.remoteHost,
    remotePath: m.remotePath,
    localPath: m.datastore,
    accessMode: was?.accessMode ?? m.accessMode,
    type: nfsType(m),
    ...(m.nfsVersion === '4.1' && { remoteHostNames: was?.nas?.remoteHostNames ?? [m.remoteHost] }),
  });

  return {
    async refreshHostStorage(ref, datastores): Promise<StepReport> {
      const host = await hostSystem(ref);
      await (await host.storageSystem()).refreshStorageSystem();
      const found = [`${ref.name}: RefreshStorageSystem`];
      for (const d of await find(host, datastores)) {
        if (!d.ref) continue;
        await new Datastore(host.client, d.ref).refreshDatastore();
        found.push(`${ref.name}: RefreshDatastore ${d.view.datastore}`);
      }
      return { found, changed: [], warnings: [] };
    },

    async readNasDatastores(ref, mounts): Promise<DatastoreView[]> {
      return (await find(await hostSystem(ref), mounts.map((m) => m.datastore))).map((f) => f.view);
    },

    async remountNasDatastore(ref, m): Promise<DatastoreOutcome> {
      const heartbeat = startHeartbeat<RemountHeartbeat>({});
      try {
        const host = await hostSystem(ref);
        const dss = await host.datastoreSystem();
        const [was] = await find(host, [m.datastore]);
        const decision = decide(m, was!.view, ref.name);
        // A previous attempt unmounted it and failed before mounting it again: that is this attempt's to finish.
        const resuming = decision !== 'remount' && !was!.view.seen && heartbeat.previous?.unmounted === m.datastore;
        if (decision !== 'remount' && !resuming) return decision;
        if (decision === 'remount') {
          try {
            await dss.removeDatastore(was!.ref!);
          } catch (error) {
            // The host's refusal (ResourceInUse: VMs registered on it) is an answer, not a failure to retry.
            if (!(error instanceof VimFault)) throw error;
            const why = was!.view.seen?.reason ? ` (${was!.view.seen.reason})` : '';
            return { datastore: m.datastore, state: 'inaccessible', reason: `inaccessible${why}; ${ref.name} refused RemoveDatastore: ${error.message}` };
          }
          heartbeat.update({ unmounted: m.datastore }, true);
        }
        // A failure here throws: the retry reads the heartbeat and mounts it.
        await dss.createNasDatastore(specOf(m, decision === 'remount' ? was : undefined));
        heartbeat.update({}, true);
        const [now] = await find(host, [m.datastore]);
        const seen = now!.view.seen;
        return seen?.accessible
          ? { datastore: m.datastore, state: 'remounted' }
          : { datastore: m.datastore, state: 'inaccessible', reason: `remounted, and still inaccessible${seen?.reason ? ` (${seen.reason})` : ''}` };
      } finally {
        heartbeat.stop();
      }
    },
  };
}
