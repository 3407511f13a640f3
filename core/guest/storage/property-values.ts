/**
 * ZFS property values as the inventory writes them against the exact ones `zfs get -p` prints:
 * `quota=10G` is 10737418240, `none` is 0, `recordsize=128K` is 131072.
 */
import { parseZfsSize } from '../zfs-size';

/** Properties whose values are sizes (`-p` prints bytes). */
const SIZE_PROPERTIES = new Set([
  'quota', 'refquota', 'reservation', 'refreservation', 'recordsize', 'volsize', 'volblocksize', 'special_small_blocks',
]);

/** Properties fixed when a dataset is created: `zfs set` refuses them afterwards. */
export const CREATE_ONLY_PROPERTIES = new Set(['casesensitivity', 'normalization', 'utf8only', 'volblocksize', 'encryption', 'keyformat', 'pbkdf2iters']);

/** Whether ZFS's exact value `actual` is the inventory's `wanted`. */
export function sameValue(property: string, wanted: string, actual: string): boolean {
  if (wanted === actual) return true;
  if (property === 'mountpoint') return wanted.replace(/(.)\/+$/, '$1') === actual;
  if (!SIZE_PROPERTIES.has(property)) return false;
  const [a, b] = [parseZfsSize(wanted), parseZfsSize(actual)];
  return a !== undefined && a === b;
}
