/** The pieces of the session that need no server: thumbprints as inventories write them, API versions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, CLIENT_VERSION } from '../../activities/vsphere/session';
import { parseThumbprint } from '../../activities/vsphere/tls';

const sha1 = '5F:2A:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:9A';
const sha256 = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0')).join(':');

test('a thumbprint: SHA-1 or SHA-256 hex pairs separated by ":", any case, compared upper-case', () => {
  assert.deepEqual(parseThumbprint(sha1.toLowerCase()), { algorithm: 'sha1', text: sha1 });
  assert.deepEqual(parseThumbprint(` ${sha256} `), { algorithm: 'sha256', text: sha256.toUpperCase() });
  for (const bad of ['5F:...:9A', sha1.replace(/:/g, ''), `${sha1}:00`, sha1.replace('5F', '5G'), '', sha1.replace(/:/g, '-')]) {
    assert.throws(() => parseThumbprint(bad), /20 \(SHA-1\) or 32 \(SHA-256\) hex pairs/, bad);
  }
});

test('API versions compare by number, so an older server gets its own and a newer one ours', () => {
  assert.equal(compareVersions('6.5', CLIENT_VERSION), -1);
  assert.equal(compareVersions('8.0.3.0', '8.0.3'), 0);
  assert.equal(compareVersions('9.0.0.0', CLIENT_VERSION), 1);
  assert.equal(compareVersions('8.0.10.0', '8.0.9.0'), 1);
});
