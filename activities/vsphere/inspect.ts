/**
 * inspectEsxiHost: an ESXi host as `esxi-zfs status` shows it, in a few property reads: its
 * connection and maintenance mode, the inventory's passthrough device, its storage VM's power and
 * guest addresses, and its NFS datastores (the inventory's, mounted or not, and any other). Read-only.
 */
import type { NasMountSpec } from '../../core/datastore/shared';
import type { DatastoreState, EsxiHostExpectation, EsxiHostState, PassthroughDeviceState, StorageVmPowerState } from '../../core/status/shared';
import { nfsType } from './datastore';
import { HostSystem, retrieveOne, type DatastoreHostMount, type GuestNicInfo, type HostNasVolume, type HostPciDevice, type HostPciPassthruInfo, type ManagedObjectReference } from './index';
import { matchesSelector } from './passthrough';
import type { VsphereSessions } from './sessions';

/** A datastore as the host's `datastore` property and the datastore's own properties give it. */
export interface HostDatastore {
  name: string;
  type: string;
  nas?: Pick<HostNasVolume, 'remoteHost' | 'remotePath'>;
  summaryAccessible?: boolean;
  /** This host's mount info (DatastoreHostMount), where the endpoint gives one. */
  mount?: { mounted?: boolean; accessible?: boolean; inaccessibleReason?: string; accessMode?: string };
}

/**
 * The inventory's datastores for the host (mounted or not) and every other NFS datastore it has.
 * Local (VMFS) datastores are the host's own business and left out.
 */
export function datastoreStates(expected: EsxiHostExpectation['datastores'], found: HostDatastore[]): DatastoreState[] {
  const state = (d: HostDatastore, listed?: NasMountSpec): DatastoreState => {
    const accessible = d.mount?.accessible ?? d.summaryAccessible;
    return {
      name: d.name,
      type: d.type,
      ...(d.nas && { remote: `${d.nas.remoteHost}:${d.nas.remotePath}` }),
      expected: listed !== undefined,
      mounted: d.mount?.mounted ?? true,
      ...(accessible !== undefined && { accessible }),
      ...(d.mount?.inaccessibleReason && { inaccessibleReason: d.mount.inaccessibleReason }),
      ...(d.mount?.accessMode && { accessMode: d.mount.accessMode }),
      ...(listed && { expectedAccessMode: listed.accessMode }),
    };
  };
  const listed = expected.map((m): DatastoreState => {
    const d = found.find((x) => x.name === m.datastore);
    return d ? state(d, m) : { name: m.datastore, type: nfsType(m), remote: `${m.remoteHost}:${m.remotePath}`, expected: true, mounted: false, expectedAccessMode: m.accessMode };
  });
  const others = found.filter((d) => d.type.startsWith('NFS') && !expected.some((m) => m.datastore === d.name)).map((d) => state(d));
  return [...listed, ...others];
}

/** guest.ipAddress and every address of guest.net, once each. */
export function guestAddresses(p: Record<string, unknown>): string[] {
  const net = (p['guest.net'] ?? []) as GuestNicInfo[];
  return [...new Set([String(p['guest.ipAddress'] ?? ''), ...net.flatMap((n) => n.ipAddress ?? [])].filter(Boolean))];
}

export function createInspectEsxiActivities(deps: { sessions: VsphereSessions }) {
  return {
    async inspectEsxiHost(expected: EsxiHostExpectation): Promise<EsxiHostState> {
      const host = await HostSystem.find(await deps.sessions.session(expected.host.vsphere), expected.host.name);
      const p = await host.properties([
        'runtime.connectionState', 'runtime.inMaintenanceMode', 'runtime.bootTime', 'hardware.pciDevice', 'config.pciPassthruInfo', 'vm', 'datastore',
      ]);

      let passthrough: EsxiHostState['passthrough'];
      if (expected.passthrough) {
        const infos = (p['config.pciPassthruInfo'] ?? []) as HostPciPassthruInfo[];
        const devices = ((p['hardware.pciDevice'] ?? []) as HostPciDevice[]).filter((d) => matchesSelector(d, expected.passthrough!));
        passthrough = {
          devices: devices.map((d): PassthroughDeviceState => {
            const info = infos.find((i) => i.id === d.id);
            return { id: d.id, description: `${d.vendorName} ${d.deviceName}`.trim(), passthruEnabled: info?.passthruEnabled ?? false, passthruActive: info?.passthruActive ?? false };
          }),
        };
      }

      let storageVm: StorageVmPowerState | undefined;
      if (expected.storageVm) {
        const vms = await Promise.all(((p.vm ?? []) as ManagedObjectReference[]).map(async (ref) => ({ ref, name: String((await retrieveOne(host.client, ref, ['name'])).name ?? '') })));
        const vm = vms.find((v) => v.name === expected.storageVm!.name);
        if (!vm) storageVm = { name: expected.storageVm.name, found: false, guestAddresses: [] };
        else {
          const q = await retrieveOne(host.client, vm.ref, ['runtime.powerState', 'guest.ipAddress', 'guest.net', 'guest.toolsRunningStatus']);
          storageVm = {
            name: vm.name,
            found: true,
            powerState: String(q['runtime.powerState'] ?? 'unknown'),
            guestAddresses: guestAddresses(q),
            ...(q['guest.toolsRunningStatus'] !== undefined && { toolsRunningStatus: String(q['guest.toolsRunningStatus']) }),
          };
        }
      }

      const found = await Promise.all(((p.datastore ?? []) as ManagedObjectReference[]).map(async (ref): Promise<HostDatastore> => {
        const d = await retrieveOne(host.client, ref, ['summary.name', 'summary.type', 'summary.accessible', 'info', 'host']);
        const nas = (d.info as { nas?: HostNasVolume } | undefined)?.nas;
        const mount = ((d.host ?? []) as DatastoreHostMount[]).find((m) => m.key.value === host.ref.value)?.mountInfo;
        return {
          name: String(d['summary.name'] ?? ref.value),
          type: String(d['summary.type'] ?? ''),
          ...(nas && { nas: { remoteHost: nas.remoteHost, remotePath: nas.remotePath } }),
          ...(typeof d['summary.accessible'] === 'boolean' && { summaryAccessible: d['summary.accessible'] }),
          ...(mount && { mount }),
        };
      }));

      const bootTime = p['runtime.bootTime'];
      return {
        name: expected.host.name,
        connectionState: String(p['runtime.connectionState'] ?? 'unknown'),
        inMaintenanceMode: p['runtime.inMaintenanceMode'] === true,
        ...(bootTime !== undefined && { bootTime: bootTime instanceof Date ? bootTime.toISOString() : String(bootTime) }),
        ...(passthrough && { passthrough }),
        ...(storageVm && { storageVm }),
        datastores: datastoreStates(expected.datastores, found),
      };
    },
  };
}
