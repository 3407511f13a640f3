/**
 * Replay safety: every history recorded from the lab runs (test/workflow/histories, written by
 * `npm run record:histories`) is replayed against the current workflow code. A change that would
 * send a running workflow a different command sequence (an activity moved, a timer added, a child
 * renamed) fails here with Temporal's nondeterminism error, naming the file. Every workflow type
 * exported from workflows/ must have a history, unless histories/PENDING names it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import * as workflows from '../../workflows';
import { HISTORIES_DIR, PRIVATE_KEY, historyTexts } from '../helpers/record-history';

interface Recorded {
  file: string;
  history: History;
  /** From the first event, WorkflowExecutionStarted; empty when it lacks them. */
  type: string;
  workflowId: string;
}

function load(file: string): Recorded {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return { file, history, type: started?.workflowType?.name ?? '', workflowId: started?.workflowId ?? '' };
}

/** The SDK core's own words ("[TMPRL1100] Nondeterminism error: ...") out of the replay error's wrapping. */
const coreMessage = (message: string) => /Failure \{ message: "(.*?)", source:/.exec(message)?.[1] ?? message;

const recorded = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort().map(load);
const exported = Object.entries(workflows).filter(([, value]) => typeof value === 'function').map(([name]) => name).sort();
/** Types whose history is not recorded yet: one a line, `#` comments. */
const pending = readFileSync(path.join(HISTORIES_DIR, 'PENDING'), 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);

test('every recorded history replays against the current workflow code', async () => {
  assert.ok(recorded.length > 0, `no history in ${HISTORIES_DIR}`);
  // The id matters: setupReplicationTrust derives its children's ids from its own.
  const unnamed = recorded.filter((r) => !r.type || !r.workflowId).map((r) => r.file);
  assert.deepEqual(unnamed, [], 'histories whose first event is not a WorkflowExecutionStarted with a workflow type and id: record them with recordHistory()');
  const failures: string[] = [];
  // Quiet: each nondeterminism is said once, below, not also by the SDK's core log.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  const replays = Worker.runReplayHistories(
    { workflowsPath: require.resolve('../../workflows'), replayName: 'esxi-zfs-replay' },
    recorded.map((r) => ({ history: r.history, workflowId: r.workflowId })),
  );
  let i = 0;
  for await (const result of replays) {
    const { file } = recorded[i++]!;
    if (result.error) failures.push(`${file}: ${result.error.name}: ${coreMessage(result.error.message)}`);
  }
  assert.equal(i, recorded.length, 'every history was replayed');
  if (failures.length > 0) {
    assert.fail([
      `${failures.length} recorded histories no longer replay: runs started before this change would fail when a worker with it picks them up.`,
      'Keep the old command sequence for old runs with patched() (README.md, Replay safety), then re-record with `npm run record:histories`.',
      ...failures,
    ].join('\n'));
  }
});

test('every workflow type exported from workflows/ has a recorded history, or is named in histories/PENDING', () => {
  const types = new Set(recorded.map((r) => r.type));
  const missing = exported.filter((t) => !types.has(t) && !pending.includes(t));
  assert.deepEqual(missing, [], `no recorded history for ${missing.join(', ')}: call recordHistory() after a completed run in its lab test and run \`npm run record:histories\``);
  const stale = pending.filter((t) => types.has(t) || !exported.includes(t));
  assert.deepEqual(stale, [], `histories/PENDING names ${stale.join(', ')}, recorded already or not a workflow: take it off the list`);
});

test('no recorded history carries private key material', () => {
  const leaking = recorded.filter((r) => PRIVATE_KEY.test(historyTexts(r.history).join('\n'))).map((r) => r.file);
  assert.deepEqual(leaking, []);
});
