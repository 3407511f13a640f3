/**
 * Why a network plan cannot be made. Each kind is a mistake a person fixes (the inventory, the VM's
 * NICs, a hosts file line): the activity maps them to a non-retryable failure with this message.
 */
export const NETWORK_PLAN_ERRORS = [
  /** The spec is not usable as is: no or two management NICs, two NICs on one device, two gateways, a bad address. */
  'BadNetworkSpec',
  /** A NIC names a device the guest does not have. */
  'MissingDevice',
  /** The spec has more NICs than the guest has interfaces left for them. */
  'TooFewInterfaces',
  /** No interface of the guest holds the address the worker is connected to (NAT, port forwarding). */
  'ConnectedAddressNotOnGuest',
  /** The worker is connected through an interface that the spec gives another role. */
  'ConnectedThroughOtherNic',
  /** A route's gateway is on none of the spec's NIC networks. */
  'UnreachableGateway',
  /** A name of the spec is in the hosts file outside our block with another address. */
  'HostsConflict',
  /** The hosts file has a begin marker without an end, or two blocks. */
  'HostsFileMalformed',
  /** The guest's network is run by something the planners do not drive (nwam on an ipadm system). */
  'UnsupportedNetworkSetup',
  /** What the guest printed cannot be read (truncated, changed while read). */
  'FactsUnreadable',
] as const;
export type NetworkPlanErrorKind = (typeof NETWORK_PLAN_ERRORS)[number];

export class NetworkPlanError extends Error {
  constructor(
    readonly kind: NetworkPlanErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'NetworkPlanError';
  }
}
