/**
 * inspectStorageVm: the storage VM's pool and datasets as `esxi-zfs status` shows them. Read-only.
 * A VM that does not answer SSH (powered off, its sshd down, another host key) is reported as
 * unreachable with the reason, not thrown: the status says so and goes on.
 */
import { guestProfile } from '../../core/guest/profile';
import { datasetReadErrors, parseDatasetFacts } from '../../core/guest/storage/datasets';
import type { StorageVmExpectation, StorageVmState } from '../../core/status/shared';
import { datasetStates, poolState, storageVmReads, unreachable } from '../../core/status/storage-vm-read';
import { RemoteCommandError } from '../ssh';
import type { Transport } from '../transport';
import { ListingCutShortError } from '../../core/listing-end';
import { listingOk, runListing } from '../listing';

/** Connecting and the first command: a VM that does not answer in this time is reported unreachable. */
const REACH_TIMEOUT_MS = 15_000;
const READ_TIMEOUT_MS = 30_000;

export function createInspectStorageActivities(deps: { transport: Transport }) {
  const { transport } = deps;
  return {
    async inspectStorageVm(expected: StorageVmExpectation): Promise<StorageVmState> {
      const { ssh } = expected;
      const reads = storageVmReads(guestProfile(ssh.os));
      let list: string;
      try {
        list = await listingOk(transport, ssh, reads.pools, { timeoutMs: REACH_TIMEOUT_MS });
      } catch (error) {
        if (error instanceof RemoteCommandError || error instanceof ListingCutShortError) throw error;
        return unreachable(expected, (error as Error).message);
      }
      // Listings with an end line: one cut short is an error, never a pool or dataset reported missing.
      const ok = (argv: string[]) => listingOk(transport, ssh, argv, { timeoutMs: READ_TIMEOUT_MS });
      const listed = poolState(expected.pool, list, undefined);
      const pool = listed && poolState(expected.pool, list, await ok(reads.poolStatus(expected.pool)));

      const names = expected.datasets.map((d) => d.name);
      let properties = '';
      let snapshots = '';
      if (pool && names.length > 0) {
        const read = await runListing(transport, ssh, reads.datasets(names), { timeoutMs: READ_TIMEOUT_MS });
        const problems = datasetReadErrors(read.stderr);
        if (problems.length > 0) throw new Error(`${ssh.name}: zfs get: ${problems.join('; ')}`);
        properties = read.stdout;
        const existing = [...parseDatasetFacts(properties, names).keys()];
        if (existing.length > 0) snapshots = await ok(reads.snapshots(existing));
      }
      return {
        name: ssh.name,
        address: ssh.address,
        reachable: true,
        poolName: expected.pool,
        ...(pool && { pool }),
        datasets: datasetStates(expected.datasets, properties, snapshots),
      };
    },
  };
}
