/** recoverDatastores' look at the storage VM: does its NFS server answer and export the shares again (core/guest/storage/exports.ts)? */
import type { ExportsCheck, RecoverDatastoresActivities } from '../../core/datastore/recover';
import { guestProfile } from '../../core/guest/profile';
import { exportsCheck } from '../../core/guest/storage/exports';
import { startHeartbeat } from '../heartbeat';
import type { ExecResult } from '../ssh';
import type { Transport } from '../transport';

/** rpcinfo waits out RPC timeouts when nothing answers: well under the activity's minute. */
const COMMAND_TIMEOUT_MS = 25_000;
const NFS_PORT = '2049';
const NFS_PROGRAM = '100003';

const why = (r: ExecResult) => (r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).split('\n').slice(-2).join(' ');

export function createNfsExportsActivities(deps: { transport: Transport }): Pick<RecoverDatastoresActivities, 'checkNfsExports'> {
  return {
    async checkNfsExports(host, exports, nfsVersion): Promise<ExportsCheck> {
      const heartbeat = startHeartbeat({ asking: host.storageAddress });
      try {
        const profile = guestProfile(host.os);
        const rpc = await deps.transport.run(host, [profile.rpcinfo, '-n', NFS_PORT, '-t', host.storageAddress, NFS_PROGRAM, String(nfsVersion)], { timeoutMs: COMMAND_TIMEOUT_MS });
        if (rpc.code !== 0) {
          return { answered: false, missing: exports, detail: `NFS ${nfsVersion} does not answer on ${host.storageAddress}:${NFS_PORT} (${host.name}: ${why(rpc)})` };
        }
        const table = await deps.transport.run(host, profile.exportTable.argv, { timeoutMs: COMMAND_TIMEOUT_MS });
        if (table.code !== 0) {
          return { answered: false, missing: exports, detail: `${host.name}: ${profile.exportTable.argv.join(' ')}: ${why(table)}` };
        }
        return exportsCheck(host.storageAddress, profile.exportTable.parse(table.stdout), exports);
      } finally {
        heartbeat.stop();
      }
    },
  };
}
