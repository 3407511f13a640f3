// Datastore: its state as the hosts see it, and the refresh that makes them look again.
import { RefreshDatastore } from '../vim25/methods';
import type { ManagedObjectReference } from '../vim25/types';
import type { Client } from './client';
import { retrieveOne, type Properties } from './property-collector';

export class Datastore {
  constructor(
    readonly client: Client,
    readonly ref: ManagedObjectReference,
  ) {}

  properties(pathSet: string[]): Promise<Properties> {
    return retrieveOne(this.client, this.ref, pathSet);
  }

  refreshDatastore(): Promise<void> {
    return RefreshDatastore(this.client, { _this: this.ref });
  }
}
