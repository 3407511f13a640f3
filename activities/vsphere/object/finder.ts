// Finding managed entities by name: a ContainerView over the root folder, read in one
// RetrievePropertiesEx with a traversal of the view, then destroyed.
import { CreateContainerView, DestroyView } from '../vim25/methods';
import type { ManagedObjectReference, TraversalSpec } from '../vim25/types';
import type { Client } from './client';
import { propertiesOf, retrieveProperties, type Properties } from './property-collector';

export type EntityType = 'HostSystem' | 'VirtualMachine' | 'Network' | 'Datastore' | 'Datacenter' | 'ComputeResource' | 'Folder';

export interface Found {
  readonly ref: ManagedObjectReference;
  readonly properties: Properties;
}

/** Every entity of `type` under the root folder, with the properties `pathSet` (always `name`). */
export async function listEntities(client: Client, type: EntityType, pathSet: string[] = []): Promise<Found[]> {
  const viewManager = client.serviceContent.viewManager;
  if (!viewManager) throw new Error('this endpoint has no ViewManager');
  const view = await CreateContainerView(client, { _this: viewManager, container: client.serviceContent.rootFolder, type: [type], recursive: true });
  try {
    const traverseView: TraversalSpec = { _type: 'TraversalSpec', name: 'view', type: 'ContainerView', path: 'view', skip: false };
    const objects = await retrieveProperties(client, [{
      propSet: [{ type, pathSet: [...new Set(['name', ...pathSet])] }],
      objectSet: [{ obj: view, skip: true, selectSet: [traverseView] }],
    }]);
    return objects.map((content) => ({ ref: content.obj, properties: propertiesOf(content) }));
  } finally {
    await DestroyView(client, { _this: view });
  }
}

/** The entities of `type` named `name` (names are unique per folder, not across a vCenter). */
export async function findByName(client: Client, type: EntityType, name: string, pathSet: string[] = []): Promise<Found[]> {
  return (await listEntities(client, type, pathSet)).filter((found) => found.properties.name === name);
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export class AmbiguousNameError extends Error {
  override name = 'AmbiguousNameError';
}

/** The one entity of `type` named `name`: none or several is an error naming them. */
export async function findOne(client: Client, type: EntityType, name: string, pathSet: string[] = []): Promise<Found> {
  const found = await findByName(client, type, name, pathSet);
  if (found.length === 0) throw new NotFoundError(`no ${type} named '${name}'`);
  if (found.length > 1) {
    throw new AmbiguousNameError(`${found.length} ${type} objects are named '${name}': ${found.map((f) => f.ref.value).join(', ')}`);
  }
  return found[0];
}
