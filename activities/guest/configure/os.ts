/** checkGuestOs: the guest runs the OS the inventory's profile is for. */
import { ApplicationFailure } from '@temporalio/common';
import { Failure } from '../../../core/failures';
import { detectOs, osMismatch } from '../../../core/guest/os-detect';
import type { StepReport } from '../../../core/configure/shared';
import type { StorageHostRef } from '../../../core/hosts';
import type { Transport } from '../../transport';

export function createOsActivities(deps: { transport: Transport }) {
  return {
    async checkGuestOs(host: StorageHostRef): Promise<StepReport> {
      const detected = detectOs((await deps.transport.runOk(host, ['uname', '-s', '-r', '-v'], { timeoutMs: 30_000 })).stdout);
      const mismatch = osMismatch(host.os, detected);
      if (mismatch) throw ApplicationFailure.nonRetryable(`${host.name}: ${mismatch}`, Failure.GuestOsMismatch);
      return { found: [`${host.os}: ${detected.uname}`], changed: [], warnings: [] };
    },
  };
}
