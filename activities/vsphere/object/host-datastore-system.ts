// HostDatastoreSystem: the host's datastores, NFS mounts among them.
import { CreateNasDatastore, RemoveDatastore } from '../vim25/methods';
import type { HostNasVolumeSpec, ManagedObjectReference } from '../vim25/types';
import type { Client } from './client';
import { retrieveOne } from './property-collector';

export class HostDatastoreSystem {
  constructor(
    readonly client: Client,
    readonly ref: ManagedObjectReference,
  ) {}

  async datastores(): Promise<ManagedObjectReference[]> {
    return ((await retrieveOne(this.client, this.ref, ['datastore'])).datastore ?? []) as ManagedObjectReference[];
  }

  /** Mounts an NFS export as a datastore named `spec.localPath`; returns the datastore. */
  createNasDatastore(spec: HostNasVolumeSpec): Promise<ManagedObjectReference> {
    return CreateNasDatastore(this.client, { _this: this.ref, spec });
  }

  removeDatastore(datastore: ManagedObjectReference): Promise<void> {
    return RemoveDatastore(this.client, { _this: this.ref, datastore });
  }
}
