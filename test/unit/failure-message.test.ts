import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { failureMessage } from '../../scripts/failure-message';

const activity = (cause: Error) => new ActivityFailure('Activity task failed', 'listSnapshots', '3', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'worker', cause);

test('the root cause, under the step that failed', () => {
  const root = ApplicationFailure.create({ message: 'dataset sp2/r/x does not exist on uss2', type: 'NotFound' });
  assert.equal(failureMessage(activity(ApplicationFailure.create({ message: 'listing failed', cause: root }))), 'listSnapshots: dataset sp2/r/x does not exist on uss2');
});

test('a failure that quotes its cause\'s message is the one shown: it names the host, its cause does not', () => {
  const refused = ApplicationFailure.create({ message: 'connect ECONNREFUSED 10.0.0.2:22' });
  const ssh = ApplicationFailure.create({ message: 'ssh uss2 (10.0.0.2:22): cannot connect: connect ECONNREFUSED 10.0.0.2:22', type: 'SshConnectionError', cause: refused });
  assert.equal(failureMessage(activity(ssh)), 'listSnapshots: ssh uss2 (10.0.0.2:22): cannot connect: connect ECONNREFUSED 10.0.0.2:22');
  assert.equal(failureMessage(ssh), ssh.message, 'a local activity\'s failure is the cause itself');
});

test('not an Error: its text', () => {
  assert.equal(failureMessage('gone'), 'gone');
});
const readFailed = (cause: Error) => new ActivityFailure('Activity task failed', 'readDatasetState', 'a1', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'worker', cause);

test('a failure that quotes its cause with the host: the quoting message, not the bare cause', () => {
  const cause = ApplicationFailure.create({ message: 'connect ECONNREFUSED 10.0.0.3:22', type: 'Error' });
  const ssh = ApplicationFailure.create({ message: 'ssh uss3 (10.0.0.3:22): cannot connect: connect ECONNREFUSED 10.0.0.3:22', type: 'SshConnectionError', cause });
  assert.equal(failureMessage(ssh), 'ssh uss3 (10.0.0.3:22): cannot connect: connect ECONNREFUSED 10.0.0.3:22');
  assert.equal(failureMessage(readFailed(ssh)), 'readDatasetState: ssh uss3 (10.0.0.3:22): cannot connect: connect ECONNREFUSED 10.0.0.3:22');
});

test('a cause that says something new is the root: wrappers ("Activity task failed") are skipped', () => {
  const root = ApplicationFailure.create({ message: 'pool sp2 is FAULTED', type: 'PoolUnhealthy' });
  assert.equal(failureMessage(readFailed(root)), 'readDatasetState: pool sp2 is FAULTED');
  const wrapped = ApplicationFailure.create({ message: 'configure failed', cause: ApplicationFailure.create({ message: 'zpool create: disk busy' }) });
  assert.equal(failureMessage(wrapped), 'zpool create: disk busy');
  assert.equal(failureMessage('plain'), 'plain');
});
