import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import {
  createHostVerifier,
  fingerprint,
  HostKeyMismatchError,
  keyBlobType,
  parseHostKey,
  serverHostKeyAlgorithms,
} from '../../activities/ssh/host-key';

let dir: string;
const keys: Record<string, { pub: string; keygenFingerprint: string }> = {};

let n = 0;
function genKey(type: string, bits?: number): { pub: string; keygenFingerprint: string } {
  const file = join(dir, `key${n++}_${type}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'test comment', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pub = readFileSync(file + '.pub', 'utf8').trim();
  // "256 SHA256:abc... test comment (ED25519)"
  const keygenFingerprint = execFileSync('ssh-keygen', ['-lf', file + '.pub'], { encoding: 'utf8' }).split(' ')[1];
  return { pub, keygenFingerprint };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssh-host-key-test-'));
  keys.ed25519 = genKey('ed25519');
  keys.ed25519b = genKey('ed25519');
  keys.ecdsa = genKey('ecdsa', 256);
  keys.rsa = genKey('rsa', 2048);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('fingerprint matches ssh-keygen -lf for ed25519, ecdsa and rsa keys', () => {
  for (const name of ['ed25519', 'ed25519b', 'ecdsa', 'rsa']) {
    const { pub, keygenFingerprint } = keys[name];
    assert.match(keygenFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    const blob = Buffer.from(pub.split(' ')[1], 'base64');
    assert.equal(fingerprint(blob), keygenFingerprint, name);
    assert.equal(parseHostKey(pub).fingerprint, keygenFingerprint, name);
  }
});

test('parseHostKey reads type and blob, ignores the comment', () => {
  const k = parseHostKey(keys.ed25519.pub);
  assert.equal(k.type, 'ssh-ed25519');
  assert.equal(keyBlobType(k.blob), 'ssh-ed25519');
  assert.equal(parseHostKey('  ' + keys.ed25519.pub.split(' ').slice(0, 2).join(' ') + '\n').fingerprint, k.fingerprint);
  assert.equal(parseHostKey(keys.rsa.pub).type, 'ssh-rsa');
  assert.equal(parseHostKey(keys.ecdsa.pub).type, 'ecdsa-sha2-nistp256');
});

test('parseHostKey rejects malformed pins with a useful message', () => {
  assert.throws(() => parseHostKey(''), /OpenSSH public key line/);
  assert.throws(() => parseHostKey('ssh-ed25519'), /OpenSSH public key line/);
  assert.throws(() => parseHostKey('uss1 ' + keys.ed25519.pub), /known_hosts line/);
  assert.throws(() => parseHostKey('ssh-ed25519 !!!notbase64'), /base64/);
  const rsaB64 = keys.rsa.pub.split(' ')[1];
  assert.throws(() => parseHostKey('ssh-ed25519 ' + rsaB64), /of type "ssh-rsa" but the line says ssh-ed25519/);
});

test('serverHostKeyAlgorithms forces the pinned type', () => {
  assert.deepEqual(serverHostKeyAlgorithms(keys.ed25519.pub), ['ssh-ed25519']);
  assert.deepEqual(serverHostKeyAlgorithms(keys.ecdsa.pub), ['ecdsa-sha2-nistp256']);
  assert.deepEqual(serverHostKeyAlgorithms(keys.rsa.pub), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
});

test('host verifier accepts the pinned blob and reports a non-retryable mismatch otherwise', () => {
  const host = { name: 'uss1', address: '192.0.2.41', port: 2222 };
  const v = createHostVerifier(host, keys.ed25519.pub);
  assert.equal(v.hostVerifier(parseHostKey(keys.ed25519.pub).blob), true);
  assert.equal(v.mismatch(), undefined);
  assert.equal(v.hostVerifier(parseHostKey(keys.ed25519b.pub).blob), false);
  const err = v.mismatch();
  assert.ok(err instanceof HostKeyMismatchError);
  assert.ok(err instanceof ApplicationFailure);
  assert.equal(err.nonRetryable, true);
  assert.equal(err.type, 'HostKeyMismatch');
  assert.equal(err.name, 'HostKeyMismatchError');
  assert.match(err.message, /uss1/);
  assert.match(err.message, /192\.0\.2\.41:2222/);
  assert.ok(err.message.includes(keys.ed25519.keygenFingerprint), 'expected fingerprint in message');
  assert.ok(err.message.includes(keys.ed25519b.keygenFingerprint), 'presented fingerprint in message');
  assert.deepEqual(err.details?.[0], {
    host: 'uss1',
    address: '192.0.2.41',
    port: 2222,
    expected: keys.ed25519.keygenFingerprint,
    presented: keys.ed25519b.keygenFingerprint,
    expectedType: 'ssh-ed25519',
    presentedType: 'ssh-ed25519',
  });
  // A plain ApplicationFailure is not mistaken for a mismatch.
  assert.equal(ApplicationFailure.nonRetryable('x', 'Other') instanceof HostKeyMismatchError, false);
});
