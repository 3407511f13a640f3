/**
 * checkGuestOs: which address the VM answers at (its management address, else `reachAt`, where its
 * installer put it), and that it runs the OS the inventory's profile is for.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failure } from '../../../core/failures';
import { detectOs, osMismatch } from '../../../core/guest/os-detect';
import type { StepReport } from '../../../core/configure/shared';
import type { StorageHostRef } from '../../../core/hosts';
import type { Transport } from '../../transport';

const TIMEOUT_MS = 30_000;

export function createOsActivities(deps: { transport: Transport }) {
  const { transport } = deps;
  return {
    /**
     * The management address first: a run after the switch (a retry, a second configure) finds the
     * VM there. Returns the address the following steps use.
     */
    async checkGuestOs(host: StorageHostRef, reachAt?: string): Promise<{ address: string; report: StepReport }> {
      const candidates = [host.address, ...(reachAt !== undefined && reachAt !== host.address ? [reachAt] : [])];
      const failures: string[] = [];
      for (const address of candidates) {
        let uname: string;
        try {
          uname = (await transport.runOk({ ...host, address }, ['uname', '-s', '-r', '-v'], { timeoutMs: TIMEOUT_MS })).stdout;
        } catch (error) {
          failures.push(`${address}: ${(error as Error).message}`);
          continue;
        }
        const detected = detectOs(uname);
        const mismatch = osMismatch(host.os, detected);
        if (mismatch) throw ApplicationFailure.nonRetryable(`${host.name}: ${mismatch}`, Failure.GuestOsMismatch);
        return { address, report: { found: [`${host.os} at ${address}: ${detected.uname}`], changed: [], warnings: [] } };
      }
      throw new Error(`${host.name}: answers at none of ${candidates.join(', ')}:\n${failures.join('\n')}`);
    },
  };
}
