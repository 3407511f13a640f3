/**
 * enablePassthrough's input for one ESXi host, from the inventory: no secret (the vSphere
 * credential is a reference, resolved by the activities).
 */
import type { EnablePassthroughInput, EsxiHostRef, PciDeviceSelector } from '../core/passthrough/shared';
import { durationMs } from './duration';
import type { Host, Inventory } from './schema';

export function esxiHostRef(inventory: Inventory, name: string): EsxiHostRef {
  const { vsphere } = inventory;
  if (!vsphere) throw new Error('the inventory has no vsphere section: name the vCenter or ESXi endpoint (url, credentials)');
  const { user, passwordEnv } = inventory.credentials[vsphere.credentials]!;
  return {
    name,
    vsphere: { url: vsphere.url, credential: { user, passwordEnv }, ...(vsphere.thumbprint !== undefined && { thumbprint: vsphere.thumbprint }) },
  };
}

/** The inventory's passthrough device as the runbooks select it (only the ids it names). */
export function pciDeviceSelector(device: NonNullable<Host['passthrough']>['device']): PciDeviceSelector {
  return {
    ...(device.address !== undefined && { address: device.address }),
    ...(device.vendorId !== undefined && { vendorId: device.vendorId }),
    ...(device.deviceId !== undefined && { deviceId: device.deviceId }),
    ...(device.classId !== undefined && { classId: device.classId }),
  };
}

/** The hosts whose inventory entry asks for a passthrough device. */
export function passthroughHosts(inventory: Inventory): string[] {
  return inventory.hosts.filter((h) => h.passthrough).map((h) => h.name);
}

export function enablePassthroughInput(inventory: Inventory, hostName: string): EnablePassthroughInput {
  const host = inventory.hosts.find((h) => h.name === hostName);
  if (!host) throw new Error(`no host ${hostName} in the inventory`);
  if (!host.passthrough) throw new Error(`host ${hostName} has no passthrough device in the inventory`);
  const { device, rebootTimeout, maintenanceMode, runningVms } = host.passthrough;
  return {
    host: esxiHostRef(inventory, hostName),
    device: pciDeviceSelector(device),
    rebootTimeoutMs: durationMs(rebootTimeout),
    maintenanceMode,
    runningVms,
  };
}
