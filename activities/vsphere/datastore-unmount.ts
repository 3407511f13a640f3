/**
 * Failback's cut-over on an ESXi host: the recovered copy's datastore unmounted (RemoveDatastore),
 * only where no VM is registered on it; where VMs are, they are named (with their power state) for
 * the operator to move, and the datastore stays.
 */
import type { StepReport } from '../../core/configure/shared';
import type { EsxiHostRef } from '../../core/passthrough/shared';
import { HostSystem, retrieveOne, type ManagedObjectReference } from './index';
import type { VsphereSessions } from './sessions';

export interface UnmountOutcome {
  report: StepReport;
  /** `datastore: VM (powerState)` for each VM that keeps a datastore mounted. */
  vms: string[];
}

export function createDatastoreUnmountActivities(deps: { sessions: VsphereSessions }) {
  return {
    async unmountNasDatastores(ref: EsxiHostRef, names: string[]): Promise<UnmountOutcome> {
      const host = await HostSystem.find(await deps.sessions.session(ref.vsphere), ref.name);
      const system = await host.datastoreSystem();
      const mounted = await Promise.all((await system.datastores()).map(async (d: ManagedObjectReference) => {
        const p = await retrieveOne(host.client, d, ['summary.name', 'vm']);
        return { ref: d, name: String(p['summary.name']), vms: (p.vm ?? []) as ManagedObjectReference[] };
      }));
      const report: StepReport = { found: [], changed: [], warnings: [] };
      const vms: string[] = [];
      for (const name of names) {
        const datastore = mounted.find((m) => m.name === name);
        if (!datastore) {
          report.found.push(`datastore ${name} is not mounted on ${ref.name}`);
          continue;
        }
        if (datastore.vms.length > 0) {
          for (const vm of datastore.vms) {
            const p = await retrieveOne(host.client, vm, ['name', 'runtime.powerState']);
            vms.push(`${name}: ${String(p.name)} (${String(p['runtime.powerState'])})`);
          }
          continue;
        }
        await system.removeDatastore(datastore.ref);
        report.changed.push(`datastore ${name} unmounted from ${ref.name}`);
      }
      return { report, vms };
    },
  };
}
