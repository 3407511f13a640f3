/**
 * activities/heartbeat.ts `heartbeating`: every activity beats while it runs (a dead worker's step
 * is noticed after the heartbeat timeout), carrying the previous attempt's details on, and leaves
 * an activity that sends details of its own alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { HEARTBEAT_INTERVAL_MS, heartbeating, startHeartbeat } from '../../activities/heartbeat';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a plain activity beats every interval while it runs, with the previous attempt\'s details, and stops when it ends', async () => {
  const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { done: ['a'] } });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => void beats.push(d));
  const { step } = heartbeating({ step: async (x: number) => { await pause(HEARTBEAT_INTERVAL_MS * 2.5); return x + 1; } });
  assert.equal(await env.run(step, 1), 2);
  assert.deepEqual(beats, [{ done: ['a'] }, { done: ['a'] }]);
  await pause(HEARTBEAT_INTERVAL_MS * 1.5);
  assert.equal(beats.length, 2, 'no beat after the activity ended');
});

test('an activity with a heartbeat of its own sends only its own details', async () => {
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => void beats.push(d));
  const { step } = heartbeating({
    step: async () => {
      const beat = startHeartbeat({ sent: 0 });
      beat.update({ sent: 1 }, true);
      await pause(HEARTBEAT_INTERVAL_MS * 1.5);
      beat.stop();
    },
  });
  await env.run(step);
  assert.deepEqual(beats, [{ sent: 1 }, { sent: 1 }]);
});

test('a failure passes through, and the beat stops', async () => {
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => void beats++);
  const { step } = heartbeating({ step: async () => { throw new Error('refused'); } });
  await assert.rejects(env.run(step), /refused/);
  await pause(HEARTBEAT_INTERVAL_MS * 1.5);
  assert.equal(beats, 0);
});
