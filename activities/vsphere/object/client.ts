// What the object wrappers need from a session: a way to call methods, and the service content.
import type { RoundTripper } from '../vim25/soap';
import type { ManagedObjectReference, ServiceContent } from '../vim25/types';

export interface Client extends RoundTripper {
  readonly serviceContent: ServiceContent;
}

export function sameRef(a: ManagedObjectReference | undefined, b: ManagedObjectReference | undefined): boolean {
  return a !== undefined && b !== undefined && a.type === b.type && a.value === b.value;
}
