// HostAutoStartManager: which VMs the host starts at boot, in what order.
import { ReconfigureAutostart } from '../vim25/methods';
import type { HostAutoStartManagerConfig, ManagedObjectReference } from '../vim25/types';
import type { Client } from './client';
import { retrieveOne } from './property-collector';

export class HostAutoStartManager {
  constructor(
    readonly client: Client,
    readonly ref: ManagedObjectReference,
  ) {}

  async config(): Promise<HostAutoStartManagerConfig> {
    return ((await retrieveOne(this.client, this.ref, ['config'])).config ?? {}) as HostAutoStartManagerConfig;
  }

  reconfigureAutostart(spec: HostAutoStartManagerConfig): Promise<void> {
    return ReconfigureAutostart(this.client, { _this: this.ref, spec });
  }
}
