import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { requireInventory } from '../../inventory/load';
import { replicationJobs } from '../../inventory/jobs';
import { parseHostKey } from '../../activities/ssh';
import { changedHostKey, streamFailure } from '../../activities/replication/stream-failure';
import type { TransferInput } from '../../activities/replication/transfer';

const job = replicationJobs(requireInventory(path.join(__dirname, '../../examples/runbook.yaml')))[0]!;
const input = { source: job.source, target: job.target, user: 'zfsadm', resumable: false, stallTimeoutMs: 60_000 } as TransferInput;
const inventoryPin = parseHostKey(job.target.host.hostKey).fingerprint;
const OFFERED = 'SHA256:dYniLb/HsVdfveIIqVeqm2MSssN8M+sZ7F65VQLFD8M';
// What OpenSSH's ssh prints when the pinned key and the offered one differ (StrictHostKeyChecking=yes).
const SSH_STDERR = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
${OFFERED}.
Please contact your system administrator.
Add correct host key in /home/zfsadm/.ssh/known_hosts to get rid of this message.
Offending ED25519 key in /home/zfsadm/.ssh/known_hosts:1
Host key for 10.0.0.2 has changed and you have requested strict checking.
Host key verification failed.
`;
const end = (stderr: string, pinned?: string) => ({ report: { bytes: 0, sendExit: 141, receiveExit: 255 }, stopped: undefined, stderr, room: { pool: 'sp2' }, pinned });

test('changedHostKey: the offered fingerprint when ssh refused a changed key; nothing otherwise', () => {
  assert.equal(changedHostKey(SSH_STDERR), OFFERED);
  assert.equal(changedHostKey('Host key verification failed.\n'), undefined, 'an unknown host is not a changed one');
  assert.equal(changedHostKey('Permission denied (publickey).\n'), undefined);
});

test('a changed target key: HostKeyMismatch, non-retryable, naming the pinned and the offered fingerprints', () => {
  const failure = streamFailure(input, end(SSH_STDERR, 'SHA256:pinnedOnTheSource')) as unknown as { type: string; nonRetryable: boolean; message: string };
  assert.equal(failure.type, 'HostKeyMismatch');
  assert.equal(failure.nonRetryable, true);
  assert.match(failure.message, /the target's SSH host key changed: uss1 pins SHA256:pinnedOnTheSource for .* the target offered SHA256:dYniLb/);
  assert.match(failure.message, /nothing was sent/);
  assert.ok(failure.message.includes(`The inventory pins ${inventoryPin}`), failure.message);
  assert.match(failure.message, /possible man in the middle/);
});

test('a changed target key the inventory already pins: run the trust to pin it on the source', () => {
  const failure = streamFailure(input, end(SSH_STDERR.replace(OFFERED, inventoryPin))) as unknown as { message: string };
  assert.match(failure.message, /pins an unreadable key/);
  assert.match(failure.message, /The inventory already pins the offered key: setupReplicationTrust has not run since/);
});

test('an unknown target (no pinned key) stays TrustMissing', () => {
  const failure = streamFailure(input, end('No ED25519 host key is known for 10.0.0.2 and you have requested strict checking.\nHost key verification failed.\n')) as unknown as { type: string };
  assert.equal(failure.type, 'TrustMissing');
});
