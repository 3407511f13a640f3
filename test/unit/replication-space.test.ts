import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { requireInventory } from '../../inventory/load';
import { replicationJobs } from '../../inventory/jobs';
import { clearlyShort, noRoomFailure, outOfSpaceFailure } from '../../activities/replication/space';

const { source, target } = replicationJobs(requireInventory(path.join(__dirname, '../../examples/runbook.yaml')))[0]!;
const MiB = 2 ** 20;

test('clearlyShort: only when the pool has under three quarters of a known estimate', () => {
  assert.equal(clearlyShort({ pool: 'sp2', needed: 100 * MiB, available: 74 * MiB }), true);
  assert.equal(clearlyShort({ pool: 'sp2', needed: 100 * MiB, available: 80 * MiB }), false);
  assert.equal(clearlyShort({ pool: 'sp2', available: 1 }), false, 'no estimate (a resume): never refused before sending');
  assert.equal(clearlyShort({ pool: 'sp2', needed: 100 * MiB }), false);
});

test('TargetPoolFull messages: one line naming the pool, host, space needed and available, and what to do', () => {
  const room = { pool: 'sp2', needed: 112 * MiB, available: 30 * MiB };
  for (const failure of [noRoomFailure(source, target, room), outOfSpaceFailure(source, target, room, 60 * MiB, false)]) {
    assert.equal(failure.type, 'TargetPoolFull');
    assert.equal(failure.nonRetryable, true);
    assert.ok(!failure.message.includes('\n'), failure.message);
    assert.match(failure.message, /^uss1:sp1\/nas\/vol0 -> uss2:sp2\/nas\/vol0: /);
    assert.match(failure.message, /pool sp2 on uss2/);
    assert.match(failure.message, /30\.0 MiB \(31457280 bytes\) available/);
    assert.match(failure.message, /about 112 MiB \(117440512 bytes\)/);
    assert.match(failure.message, /replicateTo\.dataset in the inventory/);
  }
  assert.match(noRoomFailure(source, target, room).message, /Refused before sending; nothing was sent/);
  assert.match(outOfSpaceFailure(source, target, room, 60 * MiB, false).message, /after 60\.0 MiB \(62914560 bytes\) .* zfs receive kept nothing/);
  assert.match(outOfSpaceFailure(source, target, room, 60 * MiB, true).message, /the partial receive stays, and the next run resumes it/);
});
