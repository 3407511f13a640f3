/** recoverDatastores' look at the storage VM: does its NFS server list the shares again (core/guest/storage/exports.ts)? */
import type { ExportsCheck, RecoverDatastoresActivities } from '../../core/datastore/recover';
import { guestProfile } from '../../core/guest/profile';
import { exportsCheck, parseShowmount } from '../../core/guest/storage/exports';
import { startHeartbeat } from '../heartbeat';
import type { Transport } from '../transport';

/** showmount waits on RPC timeouts when nothing answers: well under the activity's minute. */
const SHOWMOUNT_TIMEOUT_MS = 40_000;

export function createNfsExportsActivities(deps: { transport: Transport }): Pick<RecoverDatastoresActivities, 'checkNfsExports'> {
  return {
    async checkNfsExports(host, exports): Promise<ExportsCheck> {
      const heartbeat = startHeartbeat({ asking: host.storageAddress });
      try {
        const argv = [guestProfile(host.os).showmount, '-e', host.storageAddress];
        const result = await deps.transport.run(host, argv, { timeoutMs: SHOWMOUNT_TIMEOUT_MS });
        if (result.code !== 0) {
          const why = (result.stderr.trim() || result.stdout.trim() || `exit ${result.code}`).split('\n').slice(-2).join(' ');
          return { answered: false, missing: exports, detail: `${host.name}: showmount -e ${host.storageAddress}: ${why}` };
        }
        return exportsCheck(host.storageAddress, parseShowmount(result.stdout), exports);
      } finally {
        heartbeat.stop();
      }
    },
  };
}
