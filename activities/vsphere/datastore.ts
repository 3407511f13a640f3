/**
 * registerDatastore's activities: the ESXi host's storage network and its NFS datastores. Each
 * reads the host first (networkInfo; each datastore's info), adds only what is missing and
 * refuses what differs, naming both: nothing the inventory did not make is changed.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failure } from '../../core/failures';
import type { StepReport } from '../../core/configure/shared';
import type { DatastoreActivities, NasMountSpec, StorageNetworkSpec } from '../../core/datastore/shared';
import type { EsxiHostRef } from '../../core/passthrough/shared';
import { HostSystem, retrieveOne, type DatastoreHostMount, type HostNasVolume, type ManagedObjectReference } from './index';
import type { VsphereSessions } from './sessions';

const conflict = (message: string) => ApplicationFailure.nonRetryable(message, Failure.DatastoreConflict);

/** `10.0.1.11/24` → address and dotted mask. */
export function ipConfig(cidr: string): { ipAddress: string; subnetMask: string } {
  const [ipAddress, prefixText] = cidr.split('/') as [string, string];
  const prefix = Number(prefixText);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { ipAddress, subnetMask: [24, 16, 8, 0].map((shift) => (mask >>> shift) & 0xff).join('.') };
}

/** NFS 3 is `NFS` to the API, 4.1 `NFS41`. */
export const nfsType = (m: NasMountSpec) => (m.nfsVersion === '4.1' ? 'NFS41' : 'NFS');

export function createDatastoreActivities(deps: { sessions: VsphereSessions }): DatastoreActivities {
  const hostSystem = async (ref: EsxiHostRef) => HostSystem.find(await deps.sessions.session(ref.vsphere), ref.name);

  return {
    async configureStorageNetwork(ref, network: StorageNetworkSpec): Promise<StepReport> {
      const ns = await (await hostSystem(ref)).networkSystem();
      const info = await ns.networkInfo();
      const report: StepReport = { found: [], changed: [], warnings: [] };

      const vswitch = info.vswitch.find((v) => v.name === network.vswitch);
      if (vswitch) report.found.push(`vSwitch ${network.vswitch}`);
      else {
        await ns.addVirtualSwitch(network.vswitch, { numPorts: 128 });
        report.changed.push(`vSwitch ${network.vswitch} added`);
        report.warnings.push(`vSwitch ${network.vswitch} has no uplink: give it the storage network's physical NIC`);
      }
      for (const name of [network.portGroup, network.vmkernel.name]) {
        const pg = info.portgroup.find((p) => p.spec.name === name);
        if (pg && pg.spec.vswitchName !== network.vswitch) {
          throw conflict(`${ref.name}: port group ${name} is on vSwitch ${pg.spec.vswitchName}, not ${network.vswitch}: move it or rename one in the inventory`);
        }
        if (pg) report.found.push(`port group ${name} on ${network.vswitch}`);
        else {
          await ns.addPortGroup({ name, vlanId: 0, vswitchName: network.vswitch, policy: {} });
          report.changed.push(`port group ${name} added to ${network.vswitch}`);
        }
      }
      const wanted = ipConfig(network.vmkernel.address);
      const sameAddress = info.vnic.find((v) => v.spec.ip?.ipAddress === wanted.ipAddress);
      const onPortGroup = info.vnic.find((v) => v.portgroup === network.vmkernel.name);
      if (sameAddress && sameAddress.portgroup !== network.vmkernel.name) {
        throw conflict(`${ref.name}: ${wanted.ipAddress} is ${sameAddress.device}'s, on port group ${sameAddress.portgroup}, not ${network.vmkernel.name}`);
      }
      if (onPortGroup) {
        const ip = onPortGroup.spec.ip;
        if (ip?.ipAddress !== wanted.ipAddress || ip?.subnetMask !== wanted.subnetMask) {
          throw conflict(`${ref.name}: VMkernel NIC ${onPortGroup.device} on ${network.vmkernel.name} has ${ip?.dhcp ? 'DHCP' : `${ip?.ipAddress}/${ip?.subnetMask}`}, the inventory ${network.vmkernel.address}: reported, not changed`);
        }
        report.found.push(`VMkernel NIC ${onPortGroup.device} ${network.vmkernel.address} on ${network.vmkernel.name}`);
      } else {
        const device = await ns.addVirtualNic(network.vmkernel.name, { ip: { dhcp: false, ...wanted } });
        report.changed.push(`VMkernel NIC ${device} ${network.vmkernel.address} on ${network.vmkernel.name}`);
      }
      return report;
    },

    async mountNasDatastores(ref, mounts): Promise<StepReport> {
      const host = await hostSystem(ref);
      const ds = await host.datastoreSystem();
      const existing = await Promise.all((await ds.datastores()).map(async (d: ManagedObjectReference) => {
        const p = await retrieveOne(host.client, d, ['summary.name', 'summary.type', 'info', 'host']);
        // This host's mount of it: the access mode is per host.
        const mount = (p.host as DatastoreHostMount[] | undefined)?.find((m) => m.key.value === host.ref.value);
        return { name: String(p['summary.name']), type: String(p['summary.type']), nas: (p.info as { nas?: HostNasVolume } | undefined)?.nas, accessMode: mount?.mountInfo.accessMode };
      }));
      const report: StepReport = { found: [], changed: [], warnings: [] };
      for (const m of mounts) {
        const what = `${m.remoteHost}:${m.remotePath} (${nfsType(m)}, ${m.accessMode})`;
        const same = existing.find((e) => e.name === m.datastore);
        if (same) {
          const theirs = same.nas ? `${same.nas.remoteHost}:${same.nas.remotePath} (${same.type}, ${same.accessMode ?? 'not mounted here'})` : `a ${same.type} datastore`;
          if (theirs !== what) throw conflict(`${ref.name}: datastore ${m.datastore} is ${theirs}, the inventory's is ${what}: rename one; nothing was changed`);
          report.found.push(`datastore ${m.datastore}: ${what}`);
          continue;
        }
        const elsewhere = existing.find((e) => e.nas && e.nas.remoteHost === m.remoteHost && e.nas.remotePath === m.remotePath);
        if (elsewhere) report.warnings.push(`${m.remoteHost}:${m.remotePath} is mounted as ${elsewhere.name} too`);
        await ds.createNasDatastore({
          remoteHost: m.remoteHost,
          remotePath: m.remotePath,
          localPath: m.datastore,
          accessMode: m.accessMode,
          type: nfsType(m),
          ...(m.nfsVersion === '4.1' && { remoteHostNames: [m.remoteHost] }),
        });
        report.changed.push(`datastore ${m.datastore} mounted: ${what}`);
      }
      return report;
    },
  };
}
