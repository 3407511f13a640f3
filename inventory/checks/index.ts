/** Checks that span sections of the inventory, run on the parsed document next to the schema. */
import { addressFindings } from './addresses';
import { obj, storageVms, type Finding } from './raw';
import { referenceFindings } from './references';
import { storageFindings } from './storage';

export { formatPath, type Finding } from './raw';

export function crossChecks(document: unknown): Finding[] {
  const root = obj(document);
  if (!root) return [];
  const vms = storageVms(root);
  return [...referenceFindings(root, vms), ...addressFindings(root), ...storageFindings(root, vms)];
}
