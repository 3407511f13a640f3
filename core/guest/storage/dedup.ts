/**
 * The runbook's memory rule for dedup: "about 8GB of memory for each 1TB of used storage", so the
 * dedup table stays in memory ("processing time vortex" otherwise), on top of what the VM needs
 * without dedup.
 *
 * The base is 2 GiB: the OS and ZFS's own minimum working set (OmniOS and Debian both ask for
 * 2 GB at least), and the value that agrees with the runbook's own VM: 4 GB of memory for a
 * deduped 254 GB pool (2 + 8 x 0.248 = 3.98 GiB) ran "jaw dropping fast". A base of 4 GiB (the
 * runbook's "reasonable for non-deduped storage") would flag that very VM.
 */
import type { ResolvedVdev } from './disks';
import { formatBytes } from '../../format';

export const DEDUP_BASE_GIB = 2;
export const DEDUP_GIB_PER_TIB = 8;

const TIB = 2 ** 40;

/** dedup=off (or unset) is the only value that does not dedup: on, verify, sha256[,verify], skein... all do. */
export function dedupOn(value: string | undefined): boolean {
  return value !== undefined && value !== 'off';
}

/** The memory the rule asks for `dedupDataBytes` of deduped data. */
export function dedupMemoryGiB(dedupDataBytes: number): number {
  return DEDUP_BASE_GIB + (DEDUP_GIB_PER_TIB * dedupDataBytes) / TIB;
}

/** A warning when `memoryGiB` is below the rule for `dedupDataBytes` of deduped data; undefined otherwise. */
export function dedupMemoryWarning(memoryGiB: number, dedupDataBytes: number): string | undefined {
  const wanted = dedupMemoryGiB(dedupDataBytes);
  if (memoryGiB >= wanted) return undefined;
  return (
    `dedup on up to ${formatBytes(dedupDataBytes)} of data wants about ${wanted.toFixed(1)} GiB of memory ` +
    `(the runbook's ${DEDUP_GIB_PER_TIB} GB per TB, plus ${DEDUP_BASE_GIB} GiB for the OS) and the VM has ${memoryGiB} GiB: ` +
    `without the dedup table in memory every write waits on disk reads. Raise memoryGiB to at least ${Math.ceil(wanted)}, or turn dedup off`
  );
}

/** What the data vdevs can hold: a mirror its smallest disk, raidzN all but N of its disks (each as its smallest). */
export function usableBytes(data: readonly ResolvedVdev[]): number {
  const parity = { disk: 0, mirror: 0, raidz: 1, raidz2: 2, raidz3: 3 } as const;
  return data.reduce((sum, vdev) => {
    const smallest = Math.min(...vdev.disks.map((d) => d.disk.sizeBytes));
    const members = vdev.kind === 'mirror' ? 1 : vdev.disks.length - parity[vdev.kind];
    return sum + smallest * members;
  }, 0);
}
