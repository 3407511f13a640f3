// HostNetworkSystem: standard vSwitches, port groups and VMkernel NICs.
import { AddPortGroup, AddVirtualNic, AddVirtualSwitch } from '../vim25/methods';
import type {
  HostPortGroup, HostPortGroupSpec, HostVirtualNic, HostVirtualNicSpec, HostVirtualSwitch, HostVirtualSwitchSpec, ManagedObjectReference,
} from '../vim25/types';
import type { Client } from './client';
import { retrieveOne } from './property-collector';

export interface HostNetworkState {
  readonly vswitch: HostVirtualSwitch[];
  readonly portgroup: HostPortGroup[];
  readonly vnic: HostVirtualNic[];
}

export class HostNetworkSystem {
  constructor(
    readonly client: Client,
    readonly ref: ManagedObjectReference,
  ) {}

  async networkInfo(): Promise<HostNetworkState> {
    const p = await retrieveOne(this.client, this.ref, ['networkInfo.vswitch', 'networkInfo.portgroup', 'networkInfo.vnic']);
    return {
      vswitch: (p['networkInfo.vswitch'] ?? []) as HostVirtualSwitch[],
      portgroup: (p['networkInfo.portgroup'] ?? []) as HostPortGroup[],
      vnic: (p['networkInfo.vnic'] ?? []) as HostVirtualNic[],
    };
  }

  addVirtualSwitch(vswitchName: string, spec?: HostVirtualSwitchSpec): Promise<void> {
    return AddVirtualSwitch(this.client, { _this: this.ref, vswitchName, spec });
  }

  addPortGroup(portgrp: HostPortGroupSpec): Promise<void> {
    return AddPortGroup(this.client, { _this: this.ref, portgrp });
  }

  /** The new VMkernel NIC's device name (`vmk1`). */
  addVirtualNic(portgroup: string, nic: HostVirtualNicSpec): Promise<string> {
    return AddVirtualNic(this.client, { _this: this.ref, portgroup, nic });
  }
}
