/** What recordHistory refuses to write: private key material, or a credential variable's value, anywhere in the history. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { secretsIn } from '../helpers/record-history';

const base64 = (text: string) => Buffer.from(text).toString('base64');
/** A history in the recorded files' JSON form: a start whose input is `text`, and a failure with `failure` as its message. */
const history = (text: string, failure = 'failed'): History => historyFromJSON({
  events: [
    { eventId: '1', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', workflowExecutionStartedEventAttributes: { workflowType: { name: 'probeStorageHosts' }, input: { payloads: [{ metadata: { encoding: base64('json/plain') }, data: base64(text) }] } } },
    { eventId: '2', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED', workflowExecutionFailedEventAttributes: { failure: { message: failure } } },
  ],
});

const env = { ESXI_ZFS_TEST_VSPHERE_PASSWORD: 'Xq3-pl0Tz9vLw_e2RkA7bN1c', HOME: '/root', SHORT_TOKEN: 'abc' };

test('a history that names its credentials is clean', () => {
  assert.deepEqual(secretsIn(history(JSON.stringify({ passwordEnv: 'ESXI_ZFS_TEST_VSPHERE_PASSWORD', privateKeyFile: '/root/.ssh/id_ed25519', home: '/root', t: 'abc' })), env), []);
});

test('a private key in a payload, and a password variable\'s value in a failure message, are found', () => {
  const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';
  assert.deepEqual(secretsIn(history(JSON.stringify({ key })), env), ['private key material']);
  assert.deepEqual(secretsIn(history('{}', `login failed for root with ${env.ESXI_ZFS_TEST_VSPHERE_PASSWORD}`), env), ['the value of ESXI_ZFS_TEST_VSPHERE_PASSWORD']);
});
