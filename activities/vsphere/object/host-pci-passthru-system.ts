// HostPciPassthruSystem: which PCI devices the host hands to VMs (effective after a reboot).
import { Refresh, UpdatePassthruConfig } from '../vim25/methods';
import type { HostPciPassthruConfig, ManagedObjectReference } from '../vim25/types';
import type { Client } from './client';

export class HostPciPassthruSystem {
  constructor(
    readonly client: Client,
    readonly ref: ManagedObjectReference,
  ) {}

  updatePassthruConfig(config: HostPciPassthruConfig[]): Promise<void> {
    return UpdatePassthruConfig(this.client, { _this: this.ref, config });
  }

  refresh(): Promise<void> {
    return Refresh(this.client, { _this: this.ref });
  }
}
