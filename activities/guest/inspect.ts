/**
 * inspectStorageVm: the storage VM's pool and datasets as `esxi-zfs status` shows them. Read-only.
 * A VM that does not answer SSH (powered off, its sshd down, another host key) is reported as
 * unreachable with the reason, not thrown: the status says so and goes on.
 */
import { guestProfile } from '../../core/guest/profile';
import { datasetReadErrors, parseDatasetFacts } from '../../core/guest/storage/datasets';
import type { StorageVmExpectation, StorageVmState } from '../../core/status/shared';
import { datasetStates, poolState, storageVmReads, unreachable } from '../../core/status/storage-vm-read';
import { RemoteCommandError, type ExecResult } from '../ssh';
import type { Transport } from '../transport';

/** Connecting and the first command: a VM that does not answer in this time is reported unreachable. */
const REACH_TIMEOUT_MS = 15_000;
const READ_TIMEOUT_MS = 30_000;

export function createInspectStorageActivities(deps: { transport: Transport }) {
  const { transport } = deps;
  return {
    async inspectStorageVm(expected: StorageVmExpectation): Promise<StorageVmState> {
      const { ssh } = expected;
      const reads = storageVmReads(guestProfile(ssh.os));
      let list: ExecResult;
      try {
        list = await transport.runOk(ssh, reads.pools, { timeoutMs: REACH_TIMEOUT_MS });
      } catch (error) {
        if (error instanceof RemoteCommandError) throw error;
        return unreachable(expected, (error as Error).message);
      }
      const ok = async (argv: string[]) => (await transport.runOk(ssh, argv, { timeoutMs: READ_TIMEOUT_MS })).stdout;
      const listed = poolState(expected.pool, list.stdout, undefined);
      const pool = listed && poolState(expected.pool, list.stdout, await ok(reads.poolStatus(expected.pool)));

      const names = expected.datasets.map((d) => d.name);
      let properties = '';
      let snapshots = '';
      if (pool && names.length > 0) {
        const read = await transport.run(ssh, reads.datasets(names), { timeoutMs: READ_TIMEOUT_MS });
        const problems = datasetReadErrors(read.stderr);
        if (problems.length > 0) throw new Error(`${ssh.name}: zfs get: ${problems.join('; ')}`);
        properties = read.stdout;
        const existing = [...parseDatasetFacts(properties).keys()];
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
