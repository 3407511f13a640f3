/** Checks that span sections of the inventory, run on the parsed document next to the schema. */
import { addressFindings } from './addresses';
import { obj, type Finding } from './raw';
import { referenceFindings } from './references';
import { storageFindings } from './storage';

export { formatPath, type Finding } from './raw';

export function crossChecks(document: unknown): Finding[] {
  const root = obj(document);
  if (!root) return [];
  return [...referenceFindings(root), ...addressFindings(root), ...storageFindings(root)];
}
