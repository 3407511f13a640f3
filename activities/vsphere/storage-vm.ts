/**
 * buildStorageVm's activities: each reads the host and the VM first, changes only what is missing
 * and says what it found and changed. An existing VM of the storage VM's name is never changed:
 * with the inventory's configuration it is accepted, otherwise its differences are reported
 * (StorageVmDiffers) for an operator to decide. The CreateVM_Task spec is built by `storageVmConfigSpec`
 * (pure: unit-tested), the passthrough backing chosen from the host's API version.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failure } from '../../core/failures';
import type { StepReport } from '../../core/configure/shared';
import type { EsxiHostRef } from '../../core/passthrough/shared';
import type { CreatedVm, GuestState, PassthroughBacking, StorageVmActivities, StorageVmSpec } from '../../core/storage-vm/shared';
import { startHeartbeat } from '../heartbeat';
import type { Transport } from '../transport';
import {
  createVm, deviceBackingFor, findByName, HostSystem, isFaultType, retrieveOne, TaskError, toUnsignedId, VirtualMachine,
  type AnyVirtualDevice, type AutoStartPowerInfo, type Client, type GuestNicInfo, type HostAutoStartManagerConfig, type HostPciDevice,
  type ManagedObjectReference, type OptionValue, type VirtualDevice, type VirtualDeviceConfigSpec, type VirtualMachineConfigSpec,
  type VirtualPCIPassthroughDeviceBackingInfo, type VirtualPCIPassthroughDynamicBackingInfo,
} from './index';
import type { VsphereSessions } from './sessions';

/** Creating or powering on a VM: minutes at worst. */
const TASK_WAIT_SECONDS = 30 * 60;
/** The runbook's setting: the X1's driver does not take MSI in a VM (pciPassthru0 is the VM's first passthrough device). */
export const MSI_KEY = 'pciPassthru0.msiEnabled';
const NIC_TYPES = new Set(['VirtualE1000', 'VirtualE1000e', 'VirtualVmxnet', 'VirtualVmxnet2', 'VirtualVmxnet3', 'VirtualPCNet32', 'VirtualSriovEthernetCard']);
const GiB_IN_KB = 1024 * 1024;

const report = (found: string[], changed: string[] = [], warnings: string[] = []): StepReport => ({ found, changed, warnings });
const prerequisite = (message: string) => ApplicationFailure.nonRetryable(message, Failure.StorageVmPrerequisite);

/**
 * Dynamic DirectPath I/O (any matching device of the host, vSphere 7+) where the host's API is 7 or
 * later and the hardware version 17 or later (or the host's default, which is on 7.0+); else the
 * backing pinned to the host's device by address and systemId, as ESXi 4-6 (the runbook's) do it.
 */
export function passthroughBackingKind(apiVersion: string, hardwareVersion?: string): PassthroughBacking {
  const major = Number.parseInt(apiVersion, 10);
  const hw = hardwareVersion === undefined ? undefined : Number(hardwareVersion.replace(/^vmx-/, ''));
  return Number.isFinite(major) && major >= 7 && (hw === undefined || hw >= 17) ? 'dynamic' : 'fixed';
}

export interface VmPlacement {
  /** The datastore for the VM's files (and its boot disk). */
  datastore: string;
  /** Each NIC's port group with its Network, in the spec's order. */
  networks: { portGroup: string; network: ManagedObjectReference }[];
  /** The passthrough device as the host lists it. */
  device: HostPciDevice;
  backing: PassthroughBacking;
  /** From QueryConfigTarget, for the fixed backing. */
  systemId?: string;
  /** The ids as QueryConfigTarget's dynamicPassthrough gives them (xsd:int), for the dynamic backing; else the device's. */
  allowed?: { vendorId: number; deviceId: number };
}

export function passthroughBacking(placement: VmPlacement): VirtualPCIPassthroughDeviceBackingInfo | VirtualPCIPassthroughDynamicBackingInfo {
  const { device } = placement;
  if (placement.backing === 'fixed') return deviceBackingFor(device, placement.systemId ?? '');
  return {
    _type: 'VirtualPCIPassthroughDynamicBackingInfo',
    deviceName: '',
    allowedDevice: [placement.allowed ?? { vendorId: device.vendorId, deviceId: device.deviceId }],
  };
}

/** CreateVM_Task's config: CPUs, memory all reserved, the NICs, the boot disk and/or ISO, the passthrough device and the runbook's MSI setting. */
export function storageVmConfigSpec(vm: StorageVmSpec, placement: VmPlacement): VirtualMachineConfigSpec {
  const add = (device: AnyVirtualDevice, create = false): VirtualDeviceConfigSpec => ({ operation: 'add', ...(create && { fileOperation: 'create' as const }), device });
  const connected = { startConnected: true, allowGuestControl: true, connected: true };
  const deviceChange: VirtualDeviceConfigSpec[] = placement.networks.map((n, i) => add({
    _type: vm.nicType === 'vmxnet3' ? 'VirtualVmxnet3' : 'VirtualE1000',
    key: -100 - i,
    backing: { _type: 'VirtualEthernetCardNetworkBackingInfo', deviceName: n.portGroup, network: n.network },
    connectable: connected,
    addressType: 'generated',
  }));
  if (vm.bootDisk) {
    deviceChange.push(add({ _type: vm.scsiController === 'pvscsi' ? 'ParaVirtualSCSIController' : 'VirtualLsiLogicSASController', key: -200, busNumber: 0, sharedBus: 'noSharing' }));
    deviceChange.push(add({
      _type: 'VirtualDisk', key: -201, controllerKey: -200, unitNumber: 0, capacityInKB: vm.bootDisk.sizeGiB * GiB_IN_KB,
      backing: { _type: 'VirtualDiskFlatVer2BackingInfo', fileName: `[${placement.datastore}] ${vm.name}/${vm.name}.vmdk`, diskMode: 'persistent', thinProvisioned: true },
    }, true));
  }
  if (vm.iso) {
    deviceChange.push(add({ _type: 'VirtualAHCIController', key: -300, busNumber: 0 }));
    deviceChange.push(add({
      _type: 'VirtualCdrom', key: -301, controllerKey: -300, unitNumber: 0,
      backing: { _type: 'VirtualCdromIsoBackingInfo', fileName: vm.iso }, connectable: connected,
    }));
  }
  deviceChange.push(add({ _type: 'VirtualPCIPassthrough', key: -400, backing: passthroughBacking(placement) }));
  return {
    name: vm.name,
    ...(vm.hardwareVersion !== undefined && { version: vm.hardwareVersion }),
    guestId: vm.guestId,
    files: { vmPathName: `[${placement.datastore}]` },
    numCPUs: vm.cpus,
    memoryMB: vm.memoryMB,
    deviceChange,
    memoryAllocation: { reservation: vm.memoryMB },
    extraConfig: [{ key: MSI_KEY, value: 'FALSE' }],
    memoryReservationLockedToMax: true,
  };
}

/** An existing VM as read back: the parts `vmDifferences` compares. */
export interface ExistingVm {
  host?: string;
  numCPU?: number;
  memoryMB?: number;
  lockedToMax?: boolean;
  reservation?: number;
  guestId?: string;
  version?: string;
  devices: VirtualDevice[];
  extraConfig: OptionValue[];
}

/** What differs from the spec (a VM that is not the inventory's), and what is only worth a warning (an ISO ejected after the install). */
export function vmDifferences(vm: StorageVmSpec, existing: ExistingVm, want: { host: string; device: HostPciDevice }): { differs: string[]; warnings: string[] } {
  const differs: string[] = [];
  const warnings: string[] = [];
  if (existing.host !== undefined && existing.host !== want.host) differs.push(`it runs on ${existing.host}, not ${want.host}`);
  if (existing.numCPU !== vm.cpus) differs.push(`${existing.numCPU} CPUs, the inventory says ${vm.cpus}`);
  if (existing.memoryMB !== vm.memoryMB) differs.push(`${existing.memoryMB} MB memory, the inventory says ${vm.memoryMB}`);
  if (existing.lockedToMax !== true && (existing.reservation ?? 0) < vm.memoryMB) {
    differs.push(`its memory is not all reserved (reservation ${existing.reservation ?? 0} MB, memoryReservationLockedToMax ${existing.lockedToMax ?? false}): passthrough needs it`);
  }
  const typeOf = (d: VirtualDevice) => d._type ?? '';
  const nics = existing.devices.filter((d) => NIC_TYPES.has(typeOf(d))).sort((a, b) => a.key - b.key);
  const portGroups = nics.map((d) => String((d.backing as { deviceName?: string } | undefined)?.deviceName ?? '?'));
  const wanted = vm.nics.map((n) => n.portGroup);
  if (portGroups.join('\n') !== wanted.join('\n')) differs.push(`its NICs are on [${portGroups.join(', ')}], the inventory says [${wanted.join(', ')}]`);
  const nicType = vm.nicType === 'vmxnet3' ? 'VirtualVmxnet3' : 'VirtualE1000';
  const otherNics = [...new Set(nics.map(typeOf).filter((t) => t !== nicType))];
  if (otherNics.length > 0) differs.push(`its NICs are ${otherNics.join(', ')}, the inventory says ${vm.nicType}`);
  const passthrough = existing.devices.filter((d) => typeOf(d) === 'VirtualPCIPassthrough');
  const names = (d: VirtualDevice) => {
    const b = d.backing as (Partial<VirtualPCIPassthroughDeviceBackingInfo> & Partial<VirtualPCIPassthroughDynamicBackingInfo>) | undefined;
    if (b?._type === 'VirtualPCIPassthroughDeviceBackingInfo') return b.id === want.device.id;
    return (b?.allowedDevice ?? []).some((a) => toUnsignedId(a.vendorId) === toUnsignedId(want.device.vendorId) && toUnsignedId(a.deviceId) === toUnsignedId(want.device.deviceId));
  };
  if (passthrough.length === 0) differs.push(`it has no PCI passthrough device (the inventory's ${want.device.id})`);
  else if (!passthrough.some(names)) differs.push(`its PCI passthrough device is not ${want.device.id} (${want.device.vendorName} ${want.device.deviceName})`);
  const msi = existing.extraConfig.find((o) => o.key === MSI_KEY);
  if (String(msi?.value ?? '').toUpperCase() !== 'FALSE') differs.push(`${MSI_KEY} is ${msi === undefined ? 'unset' : String(msi.value)}, the runbook sets FALSE`);
  if (vm.bootDisk) {
    const disks = existing.devices.filter((d) => typeOf(d) === 'VirtualDisk') as (VirtualDevice & { capacityInKB?: number })[];
    const size = vm.bootDisk.sizeGiB * GiB_IN_KB;
    if (disks.length === 0) differs.push(`it has no disk, the inventory says a ${vm.bootDisk.sizeGiB} GiB boot disk`);
    else if (!disks.some((d) => (d.capacityInKB ?? 0) >= size)) differs.push(`its disks are smaller than the inventory's ${vm.bootDisk.sizeGiB} GiB boot disk`);
  }
  if (vm.iso) {
    const isos = existing.devices.filter((d) => typeOf(d) === 'VirtualCdrom').map((d) => (d.backing as { fileName?: string } | undefined)?.fileName);
    if (!isos.includes(vm.iso)) warnings.push(`its CD-ROM does not hold ${vm.iso} (ejected after the install?)`);
  }
  if (existing.guestId !== vm.guestId) warnings.push(`guest id ${existing.guestId}, the inventory says ${vm.guestId}`);
  if (vm.hardwareVersion !== undefined && existing.version !== vm.hardwareVersion) warnings.push(`hardware version ${existing.version}, the inventory says ${vm.hardwareVersion}`);
  return { differs, warnings };
}

/**
 * The autostart entries to send so that the storage VM starts first and is waited for (its
 * heartbeat), the VMs on its datastores after it (those with an order keep it relative to each
 * other, new ones by name), then the host's other ordered VMs as they were; only the entries that
 * differ from `config`. Entries of VMs no longer on the host (destroyed, moved) are left alone: the
 * host refuses them.
 */
export function autostartChanges(
  config: HostAutoStartManagerConfig,
  vms: { storage: ManagedObjectReference; dependents: Named[]; hostVms: ManagedObjectReference[] },
): { changes: AutoStartPowerInfo[]; first: ManagedObjectReference } {
  const { storage, dependents } = vms;
  const same = (a: ManagedObjectReference) => (b: ManagedObjectReference) => a.value === b.value;
  const was = (key: ManagedObjectReference) => (config.powerInfo ?? []).find((p) => same(key)(p.key));
  const current = (config.powerInfo ?? [])
    .filter((p) => p.startOrder >= 1 && vms.hostVms.some(same(p.key)))
    .sort((a, b) => a.startOrder - b.startOrder);
  const entry = (key: ManagedObjectReference, startOrder: number, over: Partial<AutoStartPowerInfo> = {}): AutoStartPowerInfo => ({
    key, startOrder, startDelay: -1, waitForHeartbeat: 'systemDefault', startAction: 'powerOn', stopDelay: -1, stopAction: 'systemDefault', ...over,
  });
  const isDependent = (key: ManagedObjectReference) => dependents.some((d) => same(key)(d.ref));
  const dependentOrder = [
    ...current.filter((p) => isDependent(p.key)).map((p) => p.key),
    ...dependents.filter((d) => !current.some((p) => same(d.ref)(p.key))).sort((a, b) => a.name.localeCompare(b.name)).map((d) => d.ref),
  ];
  const rest = current.filter((p) => !same(storage)(p.key) && !isDependent(p.key));
  const wanted: AutoStartPowerInfo[] = [
    entry(storage, 1, { waitForHeartbeat: 'yes', stopAction: was(storage)?.stopAction ?? 'guestShutdown' }),
    ...dependentOrder.map((key, i) => entry(key, i + 2, was(key) ? { ...was(key)!, startOrder: i + 2, startAction: 'powerOn' } : {})),
    ...rest.map((p, i) => ({ ...p, startOrder: dependentOrder.length + i + 2 })),
  ];
  const changes = wanted.filter((w, i) => {
    const now = was(w.key);
    if (!now) return true;
    if (i === 0) return now.startOrder !== 1 || now.waitForHeartbeat !== 'yes' || now.startAction.toLowerCase() !== 'poweron';
    return now.startOrder !== w.startOrder || now.startAction.toLowerCase() !== w.startAction.toLowerCase();
  });
  return { changes, first: storage };
}

export interface Named {
  ref: ManagedObjectReference;
  name: string;
}

async function namesOf(client: Client, refs: ManagedObjectReference[], path = 'name'): Promise<Named[]> {
  return Promise.all(refs.map(async (ref) => ({ ref, name: String((await retrieveOne(client, ref, [path]))[path] ?? '') })));
}

/** The vmFolder of the datacenter the host is in (its parents up to the Datacenter). */
async function hostVmFolder(host: HostSystem): Promise<ManagedObjectReference> {
  let ref: ManagedObjectReference | undefined = host.ref;
  for (let depth = 0; ref && depth < 16; depth++) {
    if (ref.type === 'Datacenter') return (await retrieveOne(host.client, ref, ['vmFolder'])).vmFolder as ManagedObjectReference;
    ref = (await retrieveOne(host.client, ref, ['parent'])).parent as ManagedObjectReference | undefined;
  }
  throw new Error(`host ${host.ref.value}: no datacenter above it`);
}

export function createStorageVmActivities(deps: { sessions: VsphereSessions; transport: Transport }): StorageVmActivities {
  const { sessions, transport } = deps;
  const hostSystem = async (ref: EsxiHostRef) => HostSystem.find(await sessions.session(ref.vsphere), ref.name);

  /** The VM of that name among the host's, or none; several: a person decides. */
  async function findVm(client: Client, name: string): Promise<VirtualMachine | undefined> {
    const found = await findByName(client, 'VirtualMachine', name);
    if (found.length > 1) throw prerequisite(`${found.length} VMs are named ${name} (${found.map((f) => f.ref.value).join(', ')}): rename or remove the others`);
    return found[0] ? new VirtualMachine(client, found[0].ref) : undefined;
  }

  async function hostDatastores(host: HostSystem): Promise<(Named & { type: string })[]> {
    const refs = ((await host.properties(['datastore'])).datastore ?? []) as ManagedObjectReference[];
    return Promise.all(refs.map(async (ref) => {
      const p = await retrieveOne(host.client, ref, ['summary.name', 'summary.type']);
      return { ref, name: String(p['summary.name'] ?? ''), type: String(p['summary.type'] ?? '') };
    }));
  }

  async function placement(ref: EsxiHostRef, host: HostSystem, vm: StorageVmSpec, deviceId: string): Promise<VmPlacement> {
    const datastores = await hostDatastores(host);
    let datastore = vm.datastore;
    if (datastore === undefined) {
      const local = datastores.filter((d) => !d.type.startsWith('NFS'));
      if (local.length !== 1) {
        throw prerequisite(`${ref.name} has ${local.length} datastores that are not NFS (${local.map((d) => d.name).join(', ') || 'none'}): name the one for ${vm.name}'s files with storageVm.datastore`);
      }
      datastore = local[0]!.name;
    } else if (!datastores.some((d) => d.name === datastore)) {
      throw prerequisite(`${ref.name} has no datastore ${datastore} (it has ${datastores.map((d) => d.name).join(', ') || 'none'}): fix storageVm.datastore`);
    }
    const networks = await namesOf(host.client, ((await host.properties(['network'])).network ?? []) as ManagedObjectReference[]);
    const nics = vm.nics.map((n) => ({ portGroup: n.portGroup, network: networks.find((x) => x.name === n.portGroup)?.ref }));
    const missing = nics.filter((n) => !n.network).map((n) => n.portGroup);
    if (missing.length > 0) {
      throw prerequisite(
        `${ref.name} has no port group ${missing.join(', ')} (it has ${networks.map((n) => n.name).join(', ') || 'none'}): ` +
          "create it (the storage network's comes with `esxi-zfs datastores`, or by hand), then run again",
      );
    }
    const p = await host.properties(['hardware.pciDevice', 'config.product.apiVersion']);
    const device = ((p['hardware.pciDevice'] ?? []) as HostPciDevice[]).find((d) => d.id === deviceId);
    if (!device) throw prerequisite(`${ref.name} has no PCI device ${deviceId}`);
    const apiVersion = String(p['config.product.apiVersion'] ?? '');
    const backing = passthroughBackingKind(apiVersion, vm.hardwareVersion);
    const target = await host.configTarget();
    const offered = (target.pciPassthrough ?? []).find((t) => t.pciDevice.id === deviceId);
    if (!offered) throw prerequisite(`${ref.name} does not offer ${deviceId} to VMs (QueryConfigTarget): run \`esxi-zfs passthrough\` first`);
    // Dynamic DirectPath I/O matches on the ids as the host lists them for it (as it writes them, signed or not).
    const dynamic = (target.dynamicPassthrough ?? []).find((t) => toUnsignedId(t.vendorId) === toUnsignedId(device.vendorId) && toUnsignedId(t.deviceId) === toUnsignedId(device.deviceId));
    return {
      datastore, networks: nics.map((n) => ({ portGroup: n.portGroup, network: n.network! })), device, backing, systemId: offered.systemId,
      ...(dynamic && { allowed: { vendorId: dynamic.vendorId, deviceId: dynamic.deviceId } }),
    };
  }

  async function readExisting(vm: VirtualMachine): Promise<ExistingVm & { hostRef?: ManagedObjectReference }> {
    const p = await vm.properties([
      'runtime.host', 'config.hardware.numCPU', 'config.hardware.memoryMB', 'config.memoryReservationLockedToMax', 'config.memoryAllocation.reservation',
      'config.guestId', 'config.version', 'config.hardware.device', 'config.extraConfig',
    ]);
    const hostRef = p['runtime.host'] as ManagedObjectReference | undefined;
    const host = hostRef ? String((await retrieveOne(vm.client, hostRef, ['name'])).name ?? hostRef.value) : undefined;
    const num = (v: unknown) => (v === undefined ? undefined : Number(v));
    return {
      hostRef, host,
      numCPU: num(p['config.hardware.numCPU']),
      memoryMB: num(p['config.hardware.memoryMB']),
      lockedToMax: p['config.memoryReservationLockedToMax'] as boolean | undefined,
      reservation: num(p['config.memoryAllocation.reservation']),
      guestId: p['config.guestId'] as string | undefined,
      version: p['config.version'] as string | undefined,
      devices: (p['config.hardware.device'] ?? []) as VirtualDevice[],
      extraConfig: (p['config.extraConfig'] ?? []) as OptionValue[],
    };
  }

  const backingOf = (devices: VirtualDevice[]): PassthroughBacking =>
    devices.some((d) => d._type === 'VirtualPCIPassthrough' && d.backing?._type === 'VirtualPCIPassthroughDynamicBackingInfo') ? 'dynamic' : 'fixed';

  return {
    async createStorageVm(ref, vm, deviceId) {
      const host = await hostSystem(ref);
      const existing = await findVm(host.client, vm.name);
      if (existing) {
        const device = (await host.pciDevices()).find((d) => d.id === deviceId);
        if (!device) throw prerequisite(`${ref.name} has no PCI device ${deviceId}`);
        const read = await readExisting(existing);
        const { differs, warnings } = vmDifferences(vm, read, { host: ref.name, device });
        if (differs.length > 0) {
          throw ApplicationFailure.nonRetryable(
            `${vm.name} exists (${existing.ref.value}) and is not the inventory's: ${differs.join('; ')}. ` +
              'Nothing was changed: fix the VM or the inventory (or remove the VM to have it built), then run again',
            Failure.StorageVmDiffers,
          );
        }
        const created: CreatedVm = { id: existing.ref.value, backing: backingOf(read.devices) };
        return { vm: created, report: report([`${vm.name} (${existing.ref.value}) exists with the inventory's configuration (${created.backing} passthrough backing)`], [], warnings) };
      }
      const where = await placement(ref, host, vm, deviceId);
      const spec = storageVmConfigSpec(vm, where);
      const task = await createVm(host.client, await hostVmFolder(host), spec, await host.resourcePool(), host.ref);
      const beat = startHeartbeat({ step: 'createStorageVm' });
      let info;
      try {
        info = await task.wait({ maxWaitSeconds: TASK_WAIT_SECONDS, ...(beat.cancellation && { signal: beat.cancellation }) });
      } catch (error) {
        if (error instanceof TaskError && !isFaultType(error.faultType, 'DuplicateName')) {
          throw ApplicationFailure.nonRetryable(`${ref.name} refused to create ${vm.name}: ${error.message}`, Failure.StorageVmPrerequisite);
        }
        throw error;
      } finally {
        beat.stop();
      }
      const made = info.result as ManagedObjectReference;
      const parts = [
        `${vm.cpus} CPUs`, `${vm.memoryMB} MB all reserved`, `${vm.nics.length} ${vm.nicType} NICs on ${vm.nics.map((n) => n.portGroup).join(', ')}`,
        ...(vm.bootDisk ? [`a ${vm.bootDisk.sizeGiB} GiB boot disk`] : []), ...(vm.iso ? [`${vm.iso} in its CD-ROM`] : []),
        `${deviceId} by ${where.backing === 'dynamic' ? 'Dynamic DirectPath I/O' : 'DirectPath I/O pinned to the device'}`, `${MSI_KEY} = FALSE`,
      ];
      return { vm: { id: made.value, backing: where.backing }, report: report([], [`${vm.name} (${made.value}) created on ${ref.name} in [${where.datastore}]: ${parts.join(', ')} (CreateVM_Task)`]) };
    },

    async powerOnStorageVm(ref, vmName) {
      const host = await hostSystem(ref);
      const vm = await findVm(host.client, vmName);
      if (!vm) throw prerequisite(`${ref.name}: no VM ${vmName} to power on`);
      if ((await vm.properties(['runtime.powerState']))['runtime.powerState'] === 'poweredOn') return report([`${vmName} is on`]);
      try {
        await (await vm.powerOn(host.ref)).wait({ maxWaitSeconds: TASK_WAIT_SECONDS });
      } catch (error) {
        if (error instanceof TaskError && !isFaultType(error.faultType, 'InvalidPowerState')) {
          throw ApplicationFailure.nonRetryable(`${ref.name} refused to power on ${vmName}: ${error.message}`, Failure.StorageVmPowerOn);
        }
        if (!(error instanceof TaskError)) throw error;
        // InvalidPowerState: it was powered on meanwhile.
      }
      return report([], [`${vmName} powered on (PowerOnVM_Task)`]);
    },

    async waitForGuest(ref, wait): Promise<GuestState> {
      const beat = startHeartbeat({ step: 'waitForGuest' });
      const addresses = (p: Record<string, unknown>) => {
        const net = (p['guest.net'] ?? []) as GuestNicInfo[];
        const all = [String(p['guest.ipAddress'] ?? ''), ...net.flatMap((n) => n.ipAddress ?? [])].filter(Boolean);
        return [...new Set(all)];
      };
      try {
        const host = await hostSystem(ref);
        const vm = await findVm(host.client, wait.vmName);
        if (!vm) throw prerequisite(`${ref.name}: no VM ${wait.vmName}`);
        const { reached, properties } = await vm.waitFor(['guest.ipAddress', 'guest.net', 'guest.toolsRunningStatus'], (p) => addresses(p).includes(wait.address), {
          maxWaitSeconds: wait.maxWaitSeconds, pollSeconds: 10, ...(beat.cancellation && { signal: beat.cancellation }),
        });
        const tools = properties['guest.toolsRunningStatus'];
        return { ready: reached, ipAddresses: addresses(properties), ...(tools !== undefined && { toolsRunningStatus: String(tools) }) };
      } finally {
        beat.stop();
      }
    },

    async waitForSsh(ssh) {
      const result = await transport.run(ssh, ['true'], { timeoutMs: 20_000 });
      if (result.code !== 0) throw new Error(`${ssh.name}: \`true\` over SSH at ${ssh.address} exited ${result.code}: ${result.stderr.trim().slice(0, 200)}`);
      return report([`${ssh.name} answers SSH at ${ssh.address} with the pinned host key`]);
    },

    async configureBootOrder(ref, order) {
      const host = await hostSystem(ref);
      const hostVms = await namesOf(host.client, ((await host.properties(['vm'])).vm ?? []) as ManagedObjectReference[]);
      const storage = hostVms.find((v) => v.name === order.vmName);
      if (!storage) throw prerequisite(`${ref.name} has no VM ${order.vmName}: build it first`);
      const datastores = (await hostDatastores(host)).filter((d) => order.datastores.includes(d.name));
      const onThem = new Set<string>();
      for (const d of datastores) {
        for (const vm of ((await retrieveOne(host.client, d.ref, ['vm'])).vm ?? []) as ManagedObjectReference[]) onThem.add(vm.value);
      }
      const dependents = hostVms.filter((v) => onThem.has(v.ref.value) && v.ref.value !== storage.ref.value);
      const manager = await host.autoStartManager();
      const config: HostAutoStartManagerConfig = await manager.config();
      // Entries of VMs that are no longer the host's (destroyed, moved) are left alone: the host refuses them.
      const { changes: changedInfo, first } = autostartChanges(config, { storage: storage.ref, dependents, hostVms: hostVms.map((v) => v.ref) });
      const nameOf = (key: ManagedObjectReference) => hostVms.find((v) => v.ref.value === key.value)?.name ?? key.value;
      const was = (key: ManagedObjectReference) => (config.powerInfo ?? []).find((p) => p.key.value === key.value);
      const storageNow = was(storage.ref);
      const enable = config.defaults?.enabled !== true;
      const found = [
        `autostart ${config.defaults?.enabled === true ? 'on' : 'off'}`,
        `${order.vmName} ${storageNow ? `start order ${storageNow.startOrder}, waitForHeartbeat ${storageNow.waitForHeartbeat}` : 'not in the start order'}`,
        `VMs on ${order.datastores.join(', ') || 'no datastore'}: ${dependents.map((d) => d.name).join(', ') || 'none'}`,
      ];
      if (!enable && changedInfo.length === 0) return report(found);
      await manager.reconfigureAutostart({ ...(enable && { defaults: { enabled: true } }), ...(changedInfo.length > 0 && { powerInfo: changedInfo }) });
      const changed = [
        ...(enable ? ['autostart enabled'] : []),
        ...changedInfo.map((p) => `${nameOf(p.key)}: start order ${p.startOrder}${p.key.value === first.value ? ', waits for its heartbeat' : ''} (was ${was(p.key)?.startOrder ?? 'none'})`),
      ];
      return report(found, [`ReconfigureAutostart: ${changed.join('; ')}`]);
    },
  };
}
