// What the object wrappers need from a session: a way to call methods, and the service content.
import type { RoundTripper } from '../vim25/soap';
import type { ServiceContent } from '../vim25/types';

export interface Client extends RoundTripper {
  readonly serviceContent: ServiceContent;
}
