/**
 * Interrupted resumable receives (pools with extensible_dataset: `zfs receive -s`). The token
 * names the snapshot being sent by guid; `zfs send -nvt TOKEN` on the source says whether that
 * snapshot still exists.
 */
import type { Transport } from '../transport';
import { guestProfile } from '../../core/guest/profile';
import type { DatasetRef } from './datasets';

export type ResumeTokenCheck = { toguid: string; reason?: undefined } | { toguid?: undefined; reason: string };

/**
 * Reads the output of `zfs send -nvt TOKEN`: OpenZFS prints the token's nvlist, including
 * `toguid = 0x…`, then a dry-run line; a token whose snapshot is gone fails with "no longer exists".
 */
export function parseResumeTokenCheck(code: number | null, output: string): ResumeTokenCheck {
  const guid = /toguid\s*=\s*(0x[0-9a-f]+|\d+)/i.exec(output)?.[1];
  if (code === 0 && guid) return { toguid: BigInt(guid).toString() };
  const reason = output.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? `zfs send -nvt exited ${code}`;
  return { reason };
}

export function createResumeActivities(deps: { transport: Transport }) {
  const { transport } = deps;
  return {
    async inspectResumeToken(input: DatasetRef & { token: string }): Promise<ResumeTokenCheck> {
      const zfs = guestProfile(input.host.os).zfs;
      const result = await transport.run(input.host, [zfs, 'send', '-n', '-v', '-t', input.token], { timeoutMs: 60_000 });
      return parseResumeTokenCheck(result.code, `${result.stdout}\n${result.stderr}`);
    },
  };
}
