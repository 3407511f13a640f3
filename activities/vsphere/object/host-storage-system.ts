// HostStorageSystem: rescans, so a host sees storage that came back (a storage VM rebooted).
import { RefreshStorageSystem, RescanAllHba } from '../vim25/methods';
import type { ManagedObjectReference } from '../vim25/types';
import type { Client } from './client';

export class HostStorageSystem {
  constructor(
    readonly client: Client,
    readonly ref: ManagedObjectReference,
  ) {}

  rescanAllHba(): Promise<void> {
    return RescanAllHba(this.client, { _this: this.ref });
  }

  refreshStorageSystem(): Promise<void> {
    return RefreshStorageSystem(this.client, { _this: this.ref });
  }
}
