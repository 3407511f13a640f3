// PCI ids on the wire: HostPciDevice's vendorId, deviceId and classId are xsd:short, so ids from
// 0x8000 up arrive negative (Intel's 0x8086 is -32634); VirtualPCIPassthroughDeviceBackingInfo
// wants the vendor id as that same short and the device id as a hex string.
import type { HostPciDevice, VirtualPCIPassthroughDeviceBackingInfo } from './types';

/** 0x8086 -> -32634: an unsigned 16-bit id as the signed short the API carries. */
export function toSignedShort(id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new RangeError(`a PCI id is 0 to 0xffff, not ${id}`);
  return id > 0x7fff ? id - 0x10000 : id;
}

/** -32634 -> 0x8086: the id as the hardware has it. */
export function toUnsignedId(short: number): number {
  return short & 0xffff;
}

/** -32634 -> `8086`: lower-case hex, no prefix. */
export function idHex(short: number): string {
  return toUnsignedId(short).toString(16);
}

/** The backing that pins a VM's passthrough device to this host's device (DirectPath I/O); `systemId` from HostSystem.configTarget(). */
export function deviceBackingFor(device: HostPciDevice, systemId: string): VirtualPCIPassthroughDeviceBackingInfo {
  return {
    _type: 'VirtualPCIPassthroughDeviceBackingInfo',
    deviceName: device.deviceName,
    id: device.id,
    deviceId: idHex(device.deviceId),
    systemId,
    vendorId: device.vendorId,
  };
}
