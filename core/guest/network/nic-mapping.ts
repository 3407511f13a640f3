/**
 * Which guest interface each NIC of the spec is.
 *
 * A NIC with `device` is that interface. The others take the guest's remaining NICs in the order
 * the OS lists them, in the spec's order: Linux `ip link` lists links by ifindex, which the kernel
 * gives in the order it registered them; illumos `dladm show-phys` lists links by datalink id,
 * given when each link first attached. Both follow the order the drivers found the devices, which
 * for NICs of one type is the VM's virtual PCI order, i.e. the order of its network adapters, which
 * buildStorageVm creates in the spec's order. Names are not sorted: `eth10` sorts before `eth2`,
 * and `ens192`/`ens224` sort right only by accident. NICs of different types may be found in
 * another order: name them with `device` then.
 *
 * The management NIC is the one the worker reaches the VM through: its interface must be the one
 * holding the address the worker is connected to now (the SSH address, or reachAt before the
 * switch). Anything else would let a plan change the interface under the worker's feet.
 */
import type { NetworkSpec, NicSpec } from '../../configure/shared';
import { shown, shownList } from '../../show';
import { NetworkPlanError } from './errors';
import type { LiveAddress, NetworkFacts } from './facts';
import { formatCidr, inSubnet, parseCidr, type Cidr } from './ipv4';

export interface NicAssignment {
  spec: NicSpec;
  device: string;
  /** The spec's address, parsed. */
  address: Cidr;
  /** The worker's connection runs through this interface now. */
  connected: boolean;
}

/** The spec's NICs, checked: CIDR addresses, one management NIC, distinct devices, at most one gateway, each on its NIC's network. */
export function checkNetworkSpec(spec: NetworkSpec): Cidr[] {
  const bad = (message: string) => new NetworkPlanError('BadNetworkSpec', message);
  const addresses = spec.nics.map((n, i) => {
    const cidr = parseCidr(n.address);
    if (!cidr) throw bad(`nics[${i}].address ${shown(n.address)} is not an IPv4 address with a prefix length (10.0.1.41/24)`);
    return cidr;
  });
  const managers = spec.nics.filter((n) => n.role === 'management').length;
  if (managers !== 1) throw bad(`the network needs exactly one management NIC (the one the worker reaches the VM through), not ${managers}`);
  const devices = spec.nics.map((n) => n.device).filter((d): d is string => d !== undefined);
  const twice = devices.filter((d, i) => devices.indexOf(d) !== i);
  if (twice.length > 0) throw bad(`two NICs name the same device: ${shownList([...new Set(twice)])}`);
  const gateways = spec.nics.filter((n) => n.gateway !== undefined);
  if (gateways.length > 1) throw bad(`only one NIC may have a gateway (the default route), not ${gateways.length}`);
  spec.nics.forEach((n, i) => {
    if (n.gateway !== undefined && !inSubnet(n.gateway, addresses[i]!)) {
      throw new NetworkPlanError('UnreachableGateway', `the gateway ${shown(n.gateway)} is not on the network of ${formatCidr(addresses[i]!)} (nics[${i}])`);
    }
  });
  return addresses;
}

/** The interface that holds `connectedAddress` now. */
export function connectedInterface(facts: Pick<NetworkFacts, 'addresses'>, connectedAddress: string): LiveAddress {
  const live = facts.addresses.find((a) => a.address === connectedAddress);
  if (!live) {
    throw new NetworkPlanError(
      'ConnectedAddressNotOnGuest',
      `the worker reaches the VM at ${shown(connectedAddress)}, but no interface of the VM holds that address (NAT or port forwarding?): the VM's own address is needed to plan around the connection`,
    );
  }
  return live;
}

export function mapNics(spec: NetworkSpec, facts: Pick<NetworkFacts, 'nics' | 'addresses'>, connectedAddress: string): NicAssignment[] {
  const addresses = checkNetworkSpec(spec);
  for (const n of spec.nics) {
    if (n.device !== undefined && !facts.nics.includes(n.device)) {
      throw new NetworkPlanError('MissingDevice', `the VM has no interface ${shown(n.device)} (it has ${shownList(facts.nics)})`);
    }
  }
  const claimed = new Set(spec.nics.map((n) => n.device).filter((d) => d !== undefined));
  const free = facts.nics.filter((d) => !claimed.has(d));
  const unnamed = spec.nics.filter((n) => n.device === undefined).length;
  if (unnamed > free.length) {
    throw new NetworkPlanError(
      'TooFewInterfaces',
      `the spec has ${spec.nics.length} NICs, the VM ${facts.nics.length} interfaces (${shownList(facts.nics)}): ${unnamed} NICs without a device for ${free.length} left`,
    );
  }
  const connected = connectedInterface(facts, connectedAddress).device;
  const assignments = spec.nics.map((n, i) => {
    const device = n.device ?? free.shift()!;
    return { spec: n, device, address: addresses[i]!, connected: device === connected };
  });
  const management = assignments.find((a) => a.spec.role === 'management')!;
  if (!management.connected) {
    throw new NetworkPlanError(
      'ConnectedThroughOtherNic',
      `the worker is connected through ${shown(connected)} (at ${shown(connectedAddress)}), but the spec's management NIC is ${shown(management.device)}: ` +
        `name the management NIC's device, or connect through it`,
    );
  }
  return assignments;
}
