// Reading properties (RetrievePropertiesEx, every page) and waiting for them to change
// (WaitForUpdatesEx, no polling): the server holds each call until something changes or
// `maxWaitSeconds` passes, so a caller can heartbeat between calls and stop on its own deadline.
import {
  CancelWaitForUpdates, ContinueRetrievePropertiesEx, CreateFilter, CreatePropertyCollector, DestroyPropertyCollector,
  RetrievePropertiesEx, WaitForUpdatesEx,
} from '../vim25/methods';
import type { ManagedObjectReference, ObjectContent, PropertyChange, PropertyFilterSpec } from '../vim25/types';
import type { Client } from './client';

export type Properties = Record<string, unknown>;

/** Every object of every page (ContinueRetrievePropertiesEx until no token). */
export async function retrieveProperties(client: Client, specSet: PropertyFilterSpec[]): Promise<ObjectContent[]> {
  const _this = client.serviceContent.propertyCollector;
  const objects: ObjectContent[] = [];
  let page = await RetrievePropertiesEx(client, { _this, specSet, options: {} });
  while (page) {
    objects.push(...(page.objects ?? []));
    if (!page.token) break;
    page = await ContinueRetrievePropertiesEx(client, { _this, token: page.token });
  }
  return objects;
}

/** An ObjectContent's properties by path: `{ 'runtime.powerState': 'poweredOn' }`. */
export function propertiesOf(content: ObjectContent): Properties {
  return Object.fromEntries((content.propSet ?? []).map((p) => [p.name, p.val]));
}

/** The given properties of one object; a path the object lacks is absent from the result. */
export async function retrieveOne(client: Client, obj: ManagedObjectReference, pathSet: string[]): Promise<Properties> {
  const [content] = await retrieveProperties(client, [{ propSet: [{ type: obj.type, pathSet }], objectSet: [{ obj }] }]);
  return content ? propertiesOf(content) : {};
}

export interface PropertyWaitOptions {
  /** Stop waiting (CancelWaitForUpdates) when this aborts; the wait then rejects with its reason. */
  readonly signal?: AbortSignal;
  /** Give up after this long and resolve with `reached: false`. Default: no limit. */
  readonly maxWaitSeconds?: number;
  /** The longest one WaitForUpdatesEx call may be held; `onUpdate` runs at least this often. Default 30. */
  readonly pollSeconds?: number;
  /** Called after every WaitForUpdatesEx answer (also an empty one): a place to heartbeat. */
  readonly onUpdate?: (properties: Properties) => void | Promise<void>;
}

export interface WaitResult {
  readonly reached: boolean;
  readonly properties: Properties;
}

/**
 * Waits until `isDone(properties)` holds for `obj`'s properties `pathSet`, seeing every change
 * through a property collector of its own (so waits side by side do not take each other's updates).
 */
export async function waitForProperties(
  client: Client,
  obj: ManagedObjectReference,
  pathSet: string[],
  isDone: (properties: Properties) => boolean,
  options: PropertyWaitOptions = {},
): Promise<WaitResult> {
  options.signal?.throwIfAborted();
  const collector = await CreatePropertyCollector(client, { _this: client.serviceContent.propertyCollector });
  const onAbort = () => {
    CancelWaitForUpdates(client, { _this: collector }).catch(() => undefined);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await CreateFilter(client, { _this: collector, spec: { propSet: [{ type: obj.type, pathSet }], objectSet: [{ obj }] }, partialUpdates: false });
    const deadline = options.maxWaitSeconds === undefined ? Infinity : Date.now() + options.maxWaitSeconds * 1000;
    const properties: Properties = {};
    let version: string | undefined;
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) return { reached: false, properties };
      const maxWaitSeconds = Math.min(left, options.pollSeconds ?? 30);
      const updates = await WaitForUpdatesEx(
        client,
        { _this: collector, version, options: { maxWaitSeconds } },
        { signal: options.signal, timeoutMs: (maxWaitSeconds + 30) * 1000 },
      );
      options.signal?.throwIfAborted();
      if (updates) {
        version = updates.version;
        for (const filter of updates.filterSet ?? []) {
          for (const update of filter.objectSet ?? []) {
            if (update.kind === 'leave') throw new ObjectGoneError(obj);
            applyChanges(properties, update.changeSet ?? []);
          }
        }
      }
      await options.onUpdate?.(properties);
      if (isDone(properties)) return { reached: true, properties };
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await DestroyPropertyCollector(client, { _this: collector }).catch(() => undefined);
  }
}

/** The object waited for was destroyed (or left the filter) before its properties got there. */
export class ObjectGoneError extends Error {
  override name = 'ObjectGoneError';

  constructor(readonly obj: ManagedObjectReference) {
    super(`${obj.type} ${obj.value} is gone`);
  }
}

function applyChanges(properties: Properties, changes: PropertyChange[]): void {
  for (const change of changes) {
    if (change.op === 'remove' || change.op === 'indirectRemove') delete properties[change.name];
    else properties[change.name] = change.val;
  }
}
