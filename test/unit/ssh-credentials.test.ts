import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialError, expandHome, resolveCredential } from '../../activities/ssh/credentials';

let dir: string;
let keyFile: string;
let encKeyFile: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssh-cred-test-'));
  keyFile = join(dir, 'id_ed25519');
  encKeyFile = join(dir, 'id_enc');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'sekrit-passphrase', '-f', encKeyFile]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('expandHome expands a leading ~/ only', () => {
  assert.equal(expandHome('~/.ssh/k'), join(homedir(), '.ssh/k'));
  assert.equal(expandHome('/a/~/b'), '/a/~/b');
  assert.equal(expandHome('~root/x'), '~root/x');
});

test('private key from a file', () => {
  const c = resolveCredential({ user: 'root', privateKeyFile: keyFile });
  assert.equal(c.username, 'root');
  assert.deepEqual(c.privateKey, readFileSync(keyFile));
  assert.equal(c.password, undefined);
});

test('private key and passphrase from env', () => {
  const env = { MY_KEY: readFileSync(encKeyFile, 'utf8'), MY_PASS: 'sekrit-passphrase' };
  const c = resolveCredential({ user: 'zfsadm', privateKeyEnv: 'MY_KEY', passphraseEnv: 'MY_PASS' }, { env });
  assert.equal(c.passphrase, 'sekrit-passphrase');
  assert.ok(c.privateKey?.toString().includes('OPENSSH PRIVATE KEY'));
});

test('password from env', () => {
  const c = resolveCredential({ user: 'administrator', passwordEnv: 'PW' }, { env: { PW: 'hunter2' } });
  assert.equal(c.password, 'hunter2');
});

function throwsNaming(fn: () => unknown, field: string, re: RegExp, secrets: string[] = []): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CredentialError);
    assert.equal(e.field, field);
    assert.match(e.message, re);
    for (const s of secrets) assert.ok(!e.message.includes(s), 'secret leaked into message');
    return true;
  });
}

test('missing things are reported by field, never with the secret', () => {
  throwsNaming(() => resolveCredential({ user: 'root', passwordEnv: 'NOPE_PW' }, { env: {} }), 'passwordEnv', /passwordEnv: environment variable NOPE_PW is not set/);
  throwsNaming(() => resolveCredential({ user: 'root', privateKeyEnv: 'NOPE_KEY' }, { env: {} }), 'privateKeyEnv', /privateKeyEnv: environment variable NOPE_KEY is not set/);
  throwsNaming(
    () => resolveCredential({ user: 'root', privateKeyFile: keyFile, passphraseEnv: 'NOPE_PP' }, { env: {}, label: 'storage-root' }),
    'passphraseEnv',
    /credential "storage-root": passphraseEnv: environment variable NOPE_PP is not set/,
  );
  throwsNaming(() => resolveCredential({ user: 'root', privateKeyFile: '~/.ssh/does-not-exist-esxi-zfs' }), 'privateKeyFile', /privateKeyFile ~\/\.ssh\/does-not-exist-esxi-zfs \(.*\): file not found/);
  throwsNaming(() => resolveCredential({ user: 'root' }), 'credential', /no secret referenced/);
  throwsNaming(() => resolveCredential({ user: '', passwordEnv: 'X' }), 'user', /user is missing/);
  throwsNaming(() => resolveCredential({ user: 'root', privateKeyFile: keyFile, privateKeyEnv: 'K' }), 'privateKeyFile', /exclusive/);
});

test('an encrypted key without its passphrase, a wrong passphrase, or a public key are refused by field', () => {
  throwsNaming(() => resolveCredential({ user: 'root', privateKeyFile: encKeyFile }), 'privateKeyFile', /not a usable private key.*set passphraseEnv/);
  throwsNaming(
    () => resolveCredential({ user: 'root', privateKeyFile: encKeyFile, passphraseEnv: 'PP' }, { env: { PP: 'wrong-passphrase' } }),
    'privateKeyFile',
    /not a usable private key/,
    ['wrong-passphrase'],
  );
  throwsNaming(() => resolveCredential({ user: 'root', privateKeyFile: keyFile + '.pub' }), 'privateKeyFile', /public key, not a private key|not a usable private key/);
  const garbage = join(dir, 'garbage');
  writeFileSync(garbage, 'this is the secret text\n');
  throwsNaming(() => resolveCredential({ user: 'root', privateKeyFile: garbage }), 'privateKeyFile', /not a usable private key/, ['this is the secret text']);
  throwsNaming(() => resolveCredential({ user: 'root', privateKeyEnv: 'K' }, { env: { K: 'secret-key-text' } }), 'privateKeyEnv', /not a usable private key/, ['secret-key-text']);
});
