/**
 * ZFS's size grammar, one reader for every size the guest code meets: the inventory's values
 * (`quota=10G`, a disk selector's `min: 1.5T`), `zfs get -p`'s exact bytes, `zpool list`'s human
 * sizes (`1.98G`) and the capacity in `format`'s disk labels (`256.00GB`).
 */

/** A unit letter's power of two; `Z` is left out: every non-zero zettabyte value overflows ZFS's 64 bits. */
const SHIFT: Record<string, number> = { B: 0, K: 10, M: 20, G: 30, T: 40, P: 50, E: 60 };

/**
 * libzfs's zfs_nicestrtonum: a decimal number (`512`, `1.5`, `.5`, `2.`), then optionally a unit
 * letter, case-blind, alone or followed by `B` or `iB` (`10G` = `10GB` = `10GiB`, `1.5t`; but not
 * `1BB` nor `1BiB`); a fraction is cut to whole bytes as ZFS's cast cuts it. `none` is 0, as in
 * `quota=none`. Undefined when the text is not a size, or when its bytes are beyond 2^53 (no exact
 * JavaScript number).
 */
export function parseZfsSize(text: string): number | undefined {
  if (text === 'none') return 0;
  const m = /^(\d+\.?\d*|\.\d+)(?:([KMGTPE])(?:i?B)?|(B))?$/i.exec(text.trim());
  if (!m) return undefined;
  const bytes = Math.trunc(Number(m[1]) * 2 ** SHIFT[(m[2] ?? m[3] ?? 'B').toUpperCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
