/**
 * The SSH layer against a real OpenSSH sshd.
 *
 * Fixture (ESXI_ZFS_SSH_FIXTURE):
 *   lab (default)  `labUp({ hosts: 1, dir: .data/lab-ssh-test })` from lab/lab.ts: one storage host
 *                  in its own network/mount namespace with its own sshd, as the product sees it;
 *                  `labDown` at the end. Needs root.
 *   sshd           `startTestSshd()`: /usr/sbin/sshd on 127.0.0.1 (random high port, its own ed25519
 *                  host key, a temp authorized_keys, UsePAM no, StrictModes no). No lab needed.
 *
 *   node --import tsx --test test/lab/ssh.test.ts
 *   ESXI_ZFS_SSH_FIXTURE=sshd node --import tsx --test test/lab/ssh.test.ts
 */
import { startHeartbeat } from '../../activities/heartbeat';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { recorded } from '../helpers/reliability';
import {
  CredentialError,
  ExecAbortedError,
  ExecMaxBufferError,
  ExecTimeoutError,
  HostKeyMismatchError,
  RemoteCommandError,
  SshConnectionError,
  SshPool,
  exec,
  execOk,
  execStream,
  execTrustedScript,
  sh,
  type ShellScript,
  type SshTarget,
} from '../../activities/ssh';

// ------------------------------------------------------------------------------------------------
// Fixtures

type TestHost = { name: string; address: string; port: number; hostKey: string; fingerprint: string };
type SshFixture = {
  kind: 'lab' | 'sshd';
  host: TestHost;
  privateKeyFile: string;
  user: string;
  /** Local temp dir holding keys that are NOT trusted/pinned anywhere. */
  keysDir: string;
  /** Another valid ed25519 public key line (not the host's); its private key is keysDir/other_ed25519. */
  otherKey: string;
  otherRsaKey: string;
  /** sshd's per-connection processes (children of the listener). */
  connectionPids(): number[];
  stop(): Promise<void>;
};

function keygen(file: string, type = 'ed25519'): void {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

async function waitForPort(port: number, proc: ChildProcess, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`sshd exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((done) => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        done(true);
      });
      s.once('error', () => done(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`sshd did not listen on ${port} within ${ms} ms`);
}

/** Keys the tests use as "wrong" ones. */
function otherKeys(): Pick<SshFixture, 'keysDir' | 'otherKey' | 'otherRsaKey'> {
  const keysDir = mkdtempSync(join(tmpdir(), 'esxi-zfs-ssh-test-keys-'));
  keygen(join(keysDir, 'other_ed25519'));
  keygen(join(keysDir, 'other_rsa'), 'rsa');
  return {
    keysDir,
    otherKey: readFileSync(join(keysDir, 'other_ed25519.pub'), 'utf8').trim(),
    otherRsaKey: readFileSync(join(keysDir, 'other_rsa.pub'), 'utf8').trim(),
  };
}

async function killAndWait(pids: number[], ms: number): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const until = Date.now() + ms;
  while (Date.now() < until && pids.some((pid) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '))) await sleep(20);
}

/** One lab storage host (lab/lab.ts), the project's real fixture. */
async function startLabFixture(): Promise<SshFixture> {
  const { labUp, labDown } = await import('../../lab/lab');
  const dir = resolve(__dirname, '..', '..', '.data', 'lab-ssh-test');
  const lab = await labUp({ hosts: 1, dir });
  const h = lab.hosts[0];
  const keys = otherKeys();
  return {
    kind: 'lab',
    host: { name: h.name, address: h.address, port: 22, hostKey: h.hostKey, fingerprint: h.fingerprint },
    privateKeyFile: lab.privateKeyFile,
    user: 'root',
    ...keys,
    connectionPids: () => childPids(h.pids.sshd),
    async stop() {
      await labDown({ dir });
      rmSync(keys.keysDir, { recursive: true, force: true });
    },
  };
}

/** A standalone sshd on 127.0.0.1 started by the test. */
async function startTestSshd(): Promise<SshFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'esxi-zfs-ssh-test-'));
  const user = userInfo().username;
  keygen(join(dir, 'host_ed25519'));
  keygen(join(dir, 'id_ed25519'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_ed25519.pub')));
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privsep dir
  const hostKey = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const fingerprint = execFileSync('ssh-keygen', ['-lf', join(dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1];
  const keys = otherKeys();

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_ed25519')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'UsePAM no',
        'StrictModes no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'MaxSessions 10',
        'MaxStartups 50',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const logFd = openSync(join(dir, 'sshd.log'), 'a');
    const proc = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    try {
      await waitForPort(port, proc, 5000);
    } catch (e) {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      if (attempt < 3) continue;
      throw new Error(`${(e as Error).message}\n${readFileSync(join(dir, 'sshd.log'), 'utf8')}`, { cause: e });
    }
    const pid = proc.pid!;
    return {
      kind: 'sshd',
      host: { name: 'uss-test', address: '127.0.0.1', port, hostKey, fingerprint },
      privateKeyFile: join(dir, 'id_ed25519'),
      user,
      ...keys,
      connectionPids: () => childPids(pid),
      async stop() {
        // Per-connection sshd processes outlive the listener: end them first (our own descendants,
        // by pid) and let the listener reap them.
        await killAndWait(childPids(pid), 3000);
        if (proc.exitCode === null) {
          const exited = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGTERM');
          await Promise.race([exited, sleep(3000)]);
        }
        rmSync(dir, { recursive: true, force: true });
        rmSync(keys.keysDir, { recursive: true, force: true });
      },
    };
  }
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ------------------------------------------------------------------------------------------------

let fx: SshFixture;
let pool: SshPool;
let target: SshTarget;

let H: string; // regex source for "name (address:port)"
let NAME: string;

before(async () => {
  fx = process.env.ESXI_ZFS_SSH_FIXTURE === 'sshd' ? await startTestSshd() : await startLabFixture();
  NAME = reEscape(fx.host.name);
  H = `${NAME} \\(${reEscape(fx.host.address)}:${fx.host.port}\\)`;
  target = {
    name: fx.host.name,
    address: fx.host.address,
    port: fx.host.port,
    hostKey: fx.host.hostKey,
    credential: { user: fx.user, privateKeyFile: fx.privateKeyFile },
  };
  pool = new SshPool({ connectTimeoutMs: 5000, keepaliveIntervalMs: 2000 });
});

after(async () => {
  await pool?.closeAll();
  await fx?.stop();
});

const NASTY: string[] = [
  'with space',
  '  padded  ',
  "it's",
  'say "hi"',
  '$(touch /tmp/esxi-zfs-ssh-pwned)',
  '`touch /tmp/esxi-zfs-ssh-pwned`',
  '${HOME}',
  '*',
  '/etc/*',
  '[a-z]?',
  'line1\nline2',
  '\n',
  'tab\there',
  '',
  '-rf',
  '--',
  '~',
  'a;b&&c|d>e<f',
  '#not a comment',
  '!',
  'back\\slash',
  'uni ☃',
  'sp1/nas/vol0@auto-2024-01-01',
];

/** Processes on the (test) host whose command line matches; the regex avoids matching pgrep itself. */
async function remotePids(pattern: string): Promise<string[]> {
  const r = await exec(pool, target, ['pgrep', '-f', pattern]);
  return r.stdout.split('\n').filter(Boolean);
}

async function waitGone(pattern: string, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if ((await remotePids(pattern)).length === 0) return Date.now() - t0;
    await sleep(50);
  }
  throw new Error(`remote process /${pattern}/ still running after ${ms} ms`);
}

async function waitIdle(p: SshPool, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (p.stats().channelsInUse > 0) {
    if (Date.now() - t0 > ms) throw new Error('channel slot not released');
    await sleep(20);
  }
}

// ------------------------------------------------------------------------------------------------

test('arguments with spaces, quotes, $(), backticks, * and newlines reach the remote command unchanged', async () => {
  const r = await exec(pool, target, ['printf', '%s\\0', ...NASTY]);
  assert.equal(r.code, 0, r.stderr);
  const got = r.stdout.split('\0');
  assert.equal(got.pop(), '');
  assert.deepEqual(got, NASTY);

  // The same through a trusted script (pipeline), built with sh``.
  const s = await execTrustedScript(pool, target, sh`printf '%s\\0' ${NASTY} | cat`);
  assert.deepEqual(s.stdout.split('\0').slice(0, -1), NASTY);

  const touched = await exec(pool, target, ['test', '-e', '/tmp/esxi-zfs-ssh-pwned']);
  assert.equal(touched.code, 1, 'no injected command ran');
});

test('exit codes, stdout and stderr are captured; non-zero exit is a result, execOk throws', async () => {
  const r = await execTrustedScript(pool, target, sh`echo out; echo "err line" >&2; exit 3`);
  assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err line\n']);
  assert.equal(r.signal, undefined);
  assert.ok(r.durationMs >= 0);

  // The process-group marker never shows in stderr, also when stderr ends in the middle of a line.
  const plain = await execTrustedScript(pool, target, sh`echo out; printf esxi >&2; exit 4`);
  assert.deepEqual([plain.code, plain.stdout, plain.stderr], [4, 'out\n', 'esxi']);
  // stderr that merely starts like the marker is kept.
  const lookalike = await execTrustedScript(pool, target, sh`printf esxi-zfs >&2`);
  assert.equal(lookalike.stderr, 'esxi-zfs');

  const killed = await execTrustedScript(pool, target, sh`kill -TERM $$`);
  assert.equal(killed.code, null);
  assert.equal(killed.signal, 'SIGTERM');

  await assert.rejects(
    execOk(pool, target, ['ls', '/nonexistent path']),
    (e: unknown) => {
      assert.ok(e instanceof RemoteCommandError);
      assert.equal(e.code, 2);
      assert.equal(e.host, fx.host.name);
      assert.match(e.message, new RegExp(`${H}: command exited with code 2: ls '/nonexistent path'`));
      assert.match(e.stderrTail, /No such file or directory/);
      assert.match(e.message, /stderr: .*No such file/);
      return true;
    },
  );
  const ok = await execOk(pool, target, ['true']);
  assert.equal(ok.code, 0);
});

test('stdin: string, Buffer and Readable input; without input the command sees EOF', async () => {
  assert.equal((await exec(pool, target, ['cat'], { input: 'hello\n' })).stdout, 'hello\n');
  assert.equal((await exec(pool, target, ['wc', '-c'], { input: Buffer.alloc(100_000, 1) })).stdout.trim(), '100000');
  assert.equal((await exec(pool, target, ['cat'], { input: Readable.from(['a', 'b', 'c']) })).stdout, 'abc');
  const r = await exec(pool, target, ['cat'], { timeoutMs: 5000 });
  assert.deepEqual([r.code, r.stdout], [0, '']);
});

test('a changed host key is refused: non-retryable, names host and both fingerprints', recorded('hostkey/worker-to-host', async (r) => {
  const p = new SshPool({ connectTimeoutMs: 5000 });
  try {
    const wrong: SshTarget = { ...target, hostKey: fx.otherKey };
    const expectedFp = execFileSync('ssh-keygen', ['-lf', join(fx.keysDir, 'other_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1];
    await assert.rejects(exec(p, wrong, ['true']), (e: unknown) => {
      assert.ok(e instanceof HostKeyMismatchError, String(e));
      assert.ok(e instanceof ApplicationFailure);
      assert.equal(e.nonRetryable, true);
      assert.equal(e.type, 'HostKeyMismatch');
      assert.ok(e.message.includes(fx.host.name), e.message);
      assert.ok(e.message.includes(`${fx.host.address}:${fx.host.port}`), e.message);
      assert.ok(e.message.includes(expectedFp), 'expected (pinned) fingerprint');
      assert.ok(e.message.includes(fx.host.fingerprint), 'presented fingerprint');
      assert.equal(e.expected, expectedFp);
      assert.equal(e.presented, fx.host.fingerprint);
      return true;
    });
    r.happened('The connection is refused at the key exchange with a non-retryable HostKeyMismatch naming the host, its address and both fingerprints.');
    r.verified('the pinned and the presented SHA256 fingerprints are both in the message');
    assert.equal(p.stats().open, 0);
    assert.equal(p.stats().connects, 0);
    r.verified('no connection was opened (no command could run)');

    // Pinning a key type the server does not have: the server cannot present it -> also a mismatch.
    await assert.rejects(exec(p, { ...target, hostKey: fx.otherRsaKey }, ['true']), (e: unknown) => {
      assert.ok(e instanceof HostKeyMismatchError, String(e));
      assert.equal(e.nonRetryable, true);
      assert.match(e.message, new RegExp(`${H}: expected ssh-rsa SHA256:.*server has no ssh-rsa host key`));
      return true;
    });
    // The correct pin on the same pool works.
    assert.equal((await exec(p, target, ['true'])).code, 0);
  } finally {
    await p.closeAll();
  }
}));

test('one TCP connection is reused across commands (pool stats and sshd connection processes agree)', async () => {
  const p = new SshPool({ connectTimeoutMs: 5000 });
  try {
    const before = new Set(fx.connectionPids());
    const a = await exec(p, target, ['echo', 'one']);
    const b = await exec(p, target, ['echo', 'two']);
    assert.deepEqual([a.stdout, b.stdout], ['one\n', 'two\n']);
    await Promise.all(Array.from({ length: 12 }, (_, i) => execOk(p, target, ['sh', '-c', 'sleep 0.2; echo $1', 'sh', String(i)])));
    const s = p.stats();
    assert.equal(s.connects, 1);
    assert.equal(s.open, 1);
    assert.ok(s.reuses >= 13, `reuses ${s.reuses}`);
    assert.equal(fx.connectionPids().filter((pid) => !before.has(pid)).length, 1, 'exactly one new sshd connection process');

    // Reconnect when closed: drop the connection, the next command connects again.
    await p.close(target);
    await sleep(100);
    assert.equal((await exec(p, target, ['echo', 'three'])).stdout, 'three\n');
    assert.equal(p.stats().connects, 2);
  } finally {
    await p.closeAll();
  }
});

test('a connection killed by the peer is detected; the next command reconnects', async () => {
  const p = new SshPool({ connectTimeoutMs: 5000 });
  try {
    const before = new Set(fx.connectionPids());
    await exec(p, target, ['true']);
    const mine = fx.connectionPids().filter((x) => !before.has(x));
    assert.equal(mine.length, 1);
    const running = exec(p, target, ['sleep', '5.3131']);
    await sleep(300);
    process.kill(mine[0], 'SIGKILL'); // our own sshd's connection process
    await assert.rejects(running, (e: unknown) => {
      assert.ok(e instanceof SshConnectionError, String(e));
      assert.equal(e.stage, 'lost');
      assert.match(e.message, new RegExp(`${H}: connection lost.*sleep 5\\.3131`));
      return true;
    });
    assert.equal((await exec(p, target, ['echo', 'back'])).stdout, 'back\n');
    assert.equal(p.stats().connects, 2);
    await exec(pool, target, ['pkill', '-f', '^sleep 5[.]3131']);
  } finally {
    await p.closeAll();
  }
});

test('timeout terminates the remote command and rejects quickly', async () => {
  const t0 = Date.now();
  await assert.rejects(exec(pool, target, ['sleep', '30.4242'], { timeoutMs: 500 }), (e: unknown) => {
    assert.ok(e instanceof ExecTimeoutError, String(e));
    assert.equal(e.timeoutMs, 500);
    assert.match(e.message, new RegExp(`${H}: timed out after 500 ms \\(remote command sent SIGTERM\\): sleep 30\\.4242`));
    return true;
  });
  const took = Date.now() - t0;
  assert.ok(took < 1500, `rejected after ${took} ms`);
  await waitGone('^sleep 30[.]4242', 2000);
  await waitIdle(pool);

  // A pipeline (process group) is terminated as a whole.
  await assert.rejects(execTrustedScript(pool, target, sh`sleep 30.4343 | sleep 30.4444`, { timeoutMs: 300 }), ExecTimeoutError);
  await waitGone('^sleep 30[.]4[34]{3}', 2000);
});

test('a process that ignores SIGTERM gets SIGKILL after the grace (2 s)', async () => {
  const script = sh`trap '' TERM; sleep 30.6161; true`;
  await assert.rejects(execTrustedScript(pool, target, script, { timeoutMs: 300 }), ExecTimeoutError);
  await waitGone('sleep 30[.]6161', 5000);
  await waitIdle(pool);
});

test('abort signal cancels: remote command terminated, AbortError', async () => {
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(new Error('operator cancelled')), 300);
  await assert.rejects(exec(pool, target, ['sleep', '30.5252'], { signal: ac.signal }), (e: unknown) => {
    assert.ok(e instanceof ExecAbortedError, String(e));
    assert.equal(e.name, 'AbortError');
    assert.match(e.message, new RegExp(`${H}: cancelled \\(operator cancelled\\).*sleep 30\\.5252`));
    return true;
  });
  assert.ok(Date.now() - t0 < 1500);
  await waitGone('^sleep 30[.]5252', 2000);

  // Already aborted: nothing runs.
  await assert.rejects(exec(pool, target, ['touch', '/tmp/esxi-zfs-ssh-should-not-exist'], { signal: AbortSignal.abort() }), ExecAbortedError);
  assert.equal((await exec(pool, target, ['test', '-e', '/tmp/esxi-zfs-ssh-should-not-exist'])).code, 1);
  await waitIdle(pool);
});

test('large output: 20 MiB streamed with backpressure; exec refuses more than 32 MiB', async () => {
  const size = 20 * 1024 * 1024;
  const made = await execOk(pool, target, sh`f=$(mktemp) && head -c ${size} /dev/urandom >"$f" && sha256sum "$f"`);
  const [remoteHash, path] = made.stdout.trim().split(/\s+/);
  try {
    const { stdout, done } = await execStream(pool, target, ['cat', path]);
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of stdout) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      if (bytes < 4 * 1024 * 1024) await sleep(1); // a slow reader at first
    }
    const result = await done;
    assert.equal(result.code, 0);
    assert.equal(bytes, size);
    assert.equal(result.stdoutBytes, size);
    assert.equal(hash.digest('hex'), remoteHash);
  } finally {
    await exec(pool, target, ['rm', '-f', path]);
  }

  // exec (buffered) refuses more than 32 MiB of stdout and stops the command.
  await assert.rejects(exec(pool, target, ['head', '-c', '40000000', '/dev/zero']), (e: unknown) => {
    assert.ok(e instanceof ExecMaxBufferError, String(e));
    assert.equal(e.maxBuffer, 32 * 1024 * 1024);
    return true;
  });
  await waitIdle(pool);
});

test('a stream counts stdout and stderr bytes (the process-group marker not included)', async () => {
  const script: ShellScript = sh`for i in 1 2 3; do echo "step $i of 3" >&2; echo $i; sleep 0.15; done`;
  const { stdout, done } = await execStream(pool, target, script);
  let text = '';
  for await (const chunk of stdout) text += (chunk as Buffer).toString('utf8');
  const r = await done;
  assert.equal(text, '1\n2\n3\n');
  assert.deepEqual([r.code, r.stdoutBytes, r.stderrBytes, r.stderr], [0, 6, 36, 'step 1 of 3\nstep 2 of 3\nstep 3 of 3\n']);
});

test('a stream reader that stops early terminates the command', async () => {
  const { stdout, done } = await execStream(pool, target, ['sh', '-c', 'exec yes 31.7171']);
  for await (const _chunk of stdout) break; // destroys the stream
  await assert.rejects(done, /stdout closed by the reader/);
  await waitGone('^yes 31[.]7171', 3000);
  await waitIdle(pool);
});

test('a missing credential env var is reported by field name, before connecting', async () => {
  const p = new SshPool();
  try {
    const t: SshTarget = { ...target, credential: { user: fx.user, privateKeyEnv: 'ESXI_ZFS_TEST_NO_SUCH_KEY' } };
    await assert.rejects(exec(p, t, ['true']), (e: unknown) => {
      assert.ok(e instanceof CredentialError, String(e));
      assert.equal(e.field, 'privateKeyEnv');
      assert.match(e.message, /privateKeyEnv: environment variable ESXI_ZFS_TEST_NO_SUCH_KEY is not set/);
      return true;
    });
    const t2: SshTarget = { ...target, credential: { user: fx.user, privateKeyFile: fx.privateKeyFile, passphraseEnv: 'ESXI_ZFS_TEST_NO_PASS' } };
    await assert.rejects(exec(p, t2, ['true']), /passphraseEnv: environment variable ESXI_ZFS_TEST_NO_PASS is not set/);
    assert.equal(p.stats().connects, 0);
  } finally {
    await p.closeAll();
  }
});

test('authentication and connection failures name the host and the stage', async () => {
  const p = new SshPool({ connectTimeoutMs: 3000 });
  try {
    const otherKeyFile = join(fx.keysDir, 'other_ed25519');
    await assert.rejects(exec(p, { ...target, credential: { user: fx.user, privateKeyFile: otherKeyFile } }, ['true']), (e: unknown) => {
      assert.ok(e instanceof SshConnectionError, String(e));
      assert.equal(e.stage, 'auth');
      assert.match(e.message, new RegExp(`ssh ${H}: authentication as ".*" failed`));
      return true;
    });
    const closedPort = await freePort();
    await assert.rejects(exec(p, { ...target, port: closedPort }, ['true']), (e: unknown) => {
      assert.ok(e instanceof SshConnectionError, String(e));
      assert.equal(e.stage, 'connect');
      assert.match(e.message, /ECONNREFUSED/);
      return true;
    });
    // The deadline covers connecting too.
    await assert.rejects(exec(p, target, ['true'], { timeoutMs: 1 }), (e: unknown) => {
      assert.ok(e instanceof ExecTimeoutError, String(e));
      assert.match(e.message, /timed out after 1 ms \(before the command started\): true/);
      return true;
    });
  } finally {
    await p.closeAll();
  }
});

test('execTrustedScript refuses a plain string at runtime too', async () => {
  await assert.rejects(execTrustedScript(pool, target, 'rm -rf /tmp/x' as unknown as ShellScript), TypeError);
  await assert.rejects(exec(pool, target, 'echo hi' as unknown as string[]), TypeError);
});

test('startHeartbeat: beats on its cadence while a command runs, gives a retry the last details, hands its cancellation to exec; inert outside', async () => {
  const outside = startHeartbeat({ step: 0 });
  assert.equal(outside.previous, undefined);
  assert.equal(outside.cancellation, undefined);
  outside.stop();
  const { MockActivityEnvironment } = await import('@temporalio/testing');

  const env = new MockActivityEnvironment({ heartbeatDetails: { step: 7 } });
  const beats: { step: number }[] = [];
  env.on('heartbeat', (d: { step: number }) => beats.push(d));
  const previous = await env.run(async () => {
    const heartbeat = startHeartbeat({ step: 0 }, 50);
    try {
      heartbeat.update({ step: 1 }, true);
      await execTrustedScript(pool, target, sh`sleep 0.4`);
      heartbeat.update({ step: 2 });
      await sleep(150);
      return heartbeat.previous;
    } finally {
      heartbeat.stop();
    }
  });
  assert.deepEqual(previous, { step: 7 }, "the previous attempt's details");
  assert.deepEqual(beats[0], { step: 1 }, 'sent at once');
  assert.ok(beats.filter((b) => b.step === 1).length >= 4, `kept beating while the command was silent: ${JSON.stringify(beats)}`);
  assert.ok(beats.some((b) => b.step === 2));
  const count = beats.length;
  await sleep(150);
  assert.equal(beats.length, count, 'no beat after stop()');

  const env2 = new MockActivityEnvironment();
  const running = env2.run(async () => {
    const heartbeat = startHeartbeat({});
    try {
      return await exec(pool, target, ['sleep', '30.8181'], { signal: heartbeat.cancellation });
    } finally {
      heartbeat.stop();
    }
  });
  await sleep(400);
  env2.cancel();
  await assert.rejects(running, (e: unknown) => {
    assert.ok(e instanceof ExecAbortedError, String(e));
    assert.equal(e.name, 'AbortError');
    return true;
  });
  await waitGone('^sleep 30[.]8181', 2000);
});
