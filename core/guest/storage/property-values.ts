/**
 * ZFS property values as the inventory writes them against the exact ones `zfs get -p` prints:
 * `quota=10G` is 10737418240, `none` is 0, `recordsize=128K` is 131072.
 */

/** Properties whose values are sizes (`-p` prints bytes). */
const SIZE_PROPERTIES = new Set([
  'quota', 'refquota', 'reservation', 'refreservation', 'recordsize', 'volsize', 'volblocksize', 'special_small_blocks',
]);

/** Properties fixed when a dataset is created: `zfs set` refuses them afterwards. */
export const CREATE_ONLY_PROPERTIES = new Set(['casesensitivity', 'normalization', 'utf8only', 'volblocksize', 'encryption', 'keyformat', 'pbkdf2iters']);

const SHIFT: Record<string, number> = { '': 0, B: 0, K: 10, M: 20, G: 30, T: 40, P: 50, E: 60 };

/** zfs_nicestrtonum's grammar: `10G`, `10GB`, `10GiB`, `1.5t`, `512`, and `none` (0). Undefined when it is not a size. */
export function parseZfsSize(text: string): number | undefined {
  if (text === 'none') return 0;
  const m = /^(\d+(?:\.\d+)?)(?:([BKMGTPE])(?:i?B)?)?$/i.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]) * 2 ** SHIFT[(m[2] ?? '').toUpperCase()]!;
  return Number.isSafeInteger(Math.trunc(value)) ? Math.trunc(value) : undefined;
}

/** Whether ZFS's exact value `actual` is the inventory's `wanted`. */
export function sameValue(property: string, wanted: string, actual: string): boolean {
  if (wanted === actual) return true;
  if (property === 'mountpoint') return wanted.replace(/(.)\/+$/, '$1') === actual;
  if (!SIZE_PROPERTIES.has(property)) return false;
  const [a, b] = [parseZfsSize(wanted), parseZfsSize(actual)];
  return a !== undefined && a === b;
}
