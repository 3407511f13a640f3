/**
 * setupReplicationTrust for real: two lab storage hosts (own /etc, /home, sshd, zfs-fuse each), a
 * Temporal dev server (the product's search attributes registered: the per-host children carry them) and
 * a worker running the product's activities over SSH.
 * Runs as root; its own lab dir (.data/lab-trust-test), built fresh and torn down at the end.
 *
 *   node --import tsx --test test/lab/trust.test.ts
 *
 * Note: the lab hosts share the machine's /usr, so the receive guard (/usr/local/libexec/esxi-zfs)
 * lands on the machine itself and stays there (identical for every lab host; another lab's test may
 * be relying on it while this one ends).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { GUARD_PATH, type SetupReplicationTrustInput } from '../../core/trust/shared';
import { guardScript, sudoersText } from '../../core/trust/guard';
import { loadInventoryFile } from '../../inventory/load';
import { storageHostRef, storageVms } from '../../inventory/targets';
import type { StorageHostRef } from '../../core/hosts';
import { run } from '../../lab/exec';
import { labDown, labExec, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { configureLab } from '../helpers/lab-configure';
import { setupReplicationTrust } from '../../workflows';
import type { SetupReplicationTrustResult } from '../../core/trust/shared';

const DIR = path.resolve(__dirname, '..', '..', '.data', 'lab-trust-test');
const NAMES = ['test-san-01', 'test-san-02'];
const USER = 'zfsadm';

let lab: LabState;
let temporal: TestTemporal;
let h1: LabHostState;
let h2: LabHostState;
let refs: StorageHostRef[];
// Left in place at the end: another lab's test may be using it (lab hosts share the machine's /usr).
const guardExisted = fs.existsSync(GUARD_PATH);
const t0 = Date.now();
const ms = () => `${Date.now() - t0} ms`;

async function ok(host: LabHostState, argv: string[], input?: string): Promise<string> {
  const r = await labExec(host, argv, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `${host.name}: ${argv.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** A shell script on a lab host as root; `home` is the replication user's home there. */
const shOn = (host: LabHostState, script: string) =>
  labExec(host, ['sh', '-c', `set -u\nhome=$(getent passwd ${USER} | cut -d: -f6)\n${script}`]);

/** From host 1, as root, with the replication user's key and pinned known_hosts, as the stream does. */
function sshAsReplicationUser(command: string, opts: { stdin?: string } = {}) {
  return shOn(
    h1,
    `${opts.stdin ?? ''} ssh -i "$home/.ssh/id_ed25519" -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes ` +
      `-o UserKnownHostsFile="$home/.ssh/known_hosts" -o BatchMode=yes -o ConnectTimeout=5 ${USER}@${h2.storageAddress} '${command}'`,
  );
}

async function runTrust(input: SetupReplicationTrustInput, id: string): Promise<{ result: SetupReplicationTrustResult; handle: WorkflowHandle }> {
  const handle = await temporal.client.workflow.start(setupReplicationTrust, { args: [input], taskQueue: temporal.taskQueue, workflowId: `${id}-${process.pid}-${Date.now()}` });
  const result = await temporal.withWorker(() => handle.result());
  return { result, handle };
}

/** Every payload's bytes as text, so the history can be searched for what it carries. */
function historyText(value: unknown, out: string[] = []): string[] {
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) for (const v of value) historyText(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) historyText(v, out);
  else if (typeof value === 'string') out.push(value);
  return out;
}

const stepsOf = (result: SetupReplicationTrustResult, host: string) => result.hosts.find((h) => h.host === host)!.steps;

describe('setupReplicationTrust on two lab storage hosts', { timeout: 180_000 }, () => {
  let first: SetupReplicationTrustResult;
  let firstHandle: WorkflowHandle;
  let input: SetupReplicationTrustInput;

  before(async () => {
    await labDown({ dir: DIR }); // a fresh lab: no user, key or file left by an earlier run
    [lab, temporal] = await Promise.all([labUp({ names: NAMES, dir: DIR }), startTestTemporal('trust')]);
    [h1, h2] = lab.hosts as [LabHostState, LabHostState];
    process.stdout.write(`# lab and test server up: ${ms()}\n`);
    // The pools, and eth1 on the storage bridge (the address replication connects from and to).
    await configureLab(temporal, lab);
    await ok(h1, ['sh', '-c', 'head -c 4194304 /dev/urandom > /export/test-san-01-nas-vol0/data']);

    const loaded = loadInventoryFile(lab.inventoryFile);
    assert.ok(loaded.ok);
    refs = storageVms(loaded.inventory).map((vm) => storageHostRef(loaded.inventory, vm));
    input = { hosts: refs, user: USER, edges: [{ source: refs[0]!, target: refs[1]!, targetDataset: 'sp2/trust/vol0' }] };

    process.stdout.write(`# pools ready: ${ms()}\n`);
  });

  after(async () => {
    await temporal?.stop();
    process.stdout.write(`# dev server stopped: ${ms()}\n`);
    await labDown({ dir: DIR });
    process.stdout.write(`# lab down: ${ms()}\n`);
  });

  test('first run: user, key, guard, sudoers, authorized key and pinned host key', async () => {
    const started = Date.now();
    ({ result: first, handle: firstHandle } = await runTrust(input, 'trust-first'));
    process.stdout.write(`# first run: ${Date.now() - started} ms, ${first.changes} changes\n`);
    const s1 = stepsOf(first, 'test-san-01');
    const s2 = stepsOf(first, 'test-san-02');
    assert.deepEqual(s1.map((s) => s.step), ['ensureReplicationUser', 'ensureReplicationKey', 'installReceiveGuard', 'authorizeReplicationKeys', 'pinReplicationHostKeys', 'closeStaleConnections']);
    for (const steps of [s1, s2]) {
      assert.ok(steps[0]!.changed.some((c) => c.startsWith('created user zfsadm')), JSON.stringify(steps[0]));
      assert.ok(steps[1]!.changed.some((c) => c.startsWith('generated an ed25519 key pair')), JSON.stringify(steps[1]));
    }
    assert.ok(s2[2]!.changed.some((c) => c.startsWith('created sp2/trust')), JSON.stringify(s2[2]));
    assert.ok(s2[2]!.changed.some((c) => c.includes('/etc/sudoers.d/esxi-zfs-zfsadm')), JSON.stringify(s2[2]));
    assert.deepEqual(s1[2]!.changed.filter((c) => c.includes('sudoers')), [], 'host 1 receives nothing: no sudoers rule');
    if (!guardExisted) assert.ok([...s1, ...s2].some((s) => s.changed.some((c) => c.includes('receive guard'))));
    assert.deepEqual(s2[3]!.changed, [`/home/${USER}/.ssh/authorized_keys: authorized the key of test-san-01`]);
    assert.deepEqual(s1[4]!.changed, [`/home/${USER}/.ssh/known_hosts: pinned the host key of test-san-02`]);
    assert.deepEqual(s1[3]!.changed, []);
    assert.deepEqual(s2[4]!.changed, []);
    for (const h of first.hosts) assert.match(h.publicKey, new RegExp(`^ssh-ed25519 [A-Za-z0-9+/]+={0,2} zfsadm@${h.host}$`));

    // Files as planned: owners, modes, content.
    const zfs = (await ok(h2, ['sh', '-c', 'command -v zfs'])).trim();
    assert.equal(await ok(h2, ['cat', '/etc/sudoers.d/esxi-zfs-zfsadm']), sudoersText(USER, zfs, ['sp2/trust/vol0']));
    const which = async (c: string) => (await ok(h2, ['sh', '-c', `command -v ${c}`])).trim();
    assert.equal(await ok(h2, ['cat', GUARD_PATH]), guardScript({ zfs, sudo: await which('sudo'), perl: await which('perl') }));
    const modes = await ok(h2, ['stat', '-c', '%a %U %n', '/etc/sudoers.d/esxi-zfs-zfsadm', GUARD_PATH, `/home/${USER}/.ssh`, `/home/${USER}/.ssh/authorized_keys`]);
    assert.equal(modes, [
      '440 root /etc/sudoers.d/esxi-zfs-zfsadm',
      `755 root ${GUARD_PATH}`,
      `700 zfsadm /home/${USER}/.ssh`,
      `600 zfsadm /home/${USER}/.ssh/authorized_keys`,
      '',
    ].join('\n'));
    const authorized = (await ok(h2, ['cat', `/home/${USER}/.ssh/authorized_keys`])).trim();
    const key1 = first.hosts.find((h) => h.host === 'test-san-01')!.publicKey.split(' ').slice(0, 2).join(' ');
    assert.equal(
      authorized,
      `command="${GUARD_PATH} sp2/trust/vol0",from="${h1.storageAddress}",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc ${key1} esxi-zfs:test-san-01`,
    );
    assert.match(await ok(h2, ['grep', `^${USER}:`, '/etc/shadow']), /^zfsadm:\*:/);
  });

  test('the pipe works: zfs send | ssh zfsadm@target zfs receive -u, as root on the source', async () => {
    const started = Date.now();
    const r = await shOn(
      h1,
      `zfs snapshot sp1/nas/vol0@t1 && zfs send sp1/nas/vol0@t1 | ssh -i "$home/.ssh/id_ed25519" -o StrictHostKeyChecking=yes ` +
        `-o UserKnownHostsFile="$home/.ssh/known_hosts" -o BatchMode=yes ${USER}@${h2.storageAddress} 'zfs receive -u sp2/trust/vol0'`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no noise from ssh, the guard or sudo');
    process.stdout.write(`# full send of 4 MiB through the guard: ${Date.now() - started} ms\n`);
    assert.equal((await ok(h2, ['zfs', 'list', '-H', '-o', 'name', '-t', 'snapshot', '-r', 'sp2/trust/vol0'])).trim(), 'sp2/trust/vol0@t1');
    const guids = await Promise.all([
      ok(h1, ['zfs', 'get', '-Hp', '-o', 'value', 'guid', 'sp1/nas/vol0@t1']),
      ok(h2, ['zfs', 'get', '-Hp', '-o', 'value', 'guid', 'sp2/trust/vol0@t1']),
    ]);
    assert.equal(guids[0], guids[1]);
    // An incremental goes the same way.
    const inc = await shOn(
      h1,
      `zfs snapshot sp1/nas/vol0@t2 && zfs send -i @t1 sp1/nas/vol0@t2 | ssh -i "$home/.ssh/id_ed25519" -o StrictHostKeyChecking=yes ` +
        `-o UserKnownHostsFile="$home/.ssh/known_hosts" -o BatchMode=yes ${USER}@${h2.storageAddress} 'zfs receive -u sp2/trust/vol0'`,
    );
    assert.equal(inc.code, 0, inc.stderr);
    assert.match(await ok(h2, ['zfs', 'list', '-H', '-o', 'name', '-t', 'snapshot', '-r', 'sp2/trust/vol0']), /sp2\/trust\/vol0@t2/);
  });

  test('the replication user cannot destroy a pool: the guard refuses everything else', async () => {
    const refused = [
      'zpool destroy sp2',
      'zfs destroy -r sp2',
      'zfs receive -u -F sp2/trust/vol0',
      'sh',
      'zfs receive -u sp2/other',
      'zfs receive -u sp2/trust/vol0; zpool destroy sp2',
      'zfs receive -u sp2/trust/vol0 ',
      'sudo -n zpool destroy sp2',
    ];
    for (const command of refused) {
      const r = await sshAsReplicationUser(command, { stdin: 'echo |' });
      assert.notEqual(r.code, 0, `${command}: accepted`);
      assert.match(r.stderr, new RegExp(`esxi-zfs receive-guard: refused: ${command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), `${command}: ${r.stderr}`);
    }
    // A login without a command gets no shell either.
    const interactive = await shOn(h1, `ssh -i "$home/.ssh/id_ed25519" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$home/.ssh/known_hosts" -o BatchMode=yes ${USER}@${h2.storageAddress} </dev/null`);
    assert.notEqual(interactive.code, 0);
    assert.match(interactive.stderr, /esxi-zfs receive-guard: refused: \n/);

    // The key is accepted from the source's storage address only (from=): not from the machine.
    const keyOnMachine = path.join(h1.root, 'home', USER, '.ssh', 'id_ed25519');
    const elsewhere = await run('ssh', [
      '-i', keyOnMachine, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, '-o', 'ConnectTimeout=5', `${USER}@${h2.address}`, 'zfs receive -u sp2/trust/vol0',
    ], { input: '' });
    assert.equal(elsewhere.code, 255, elsewhere.stderr);
    assert.match(elsewhere.stderr, /Permission denied/);

    // Locally, sudo allows the exact receive only.
    for (const command of ['sudo -n /sbin/zfs destroy sp2/trust/vol0', 'sudo -n /sbin/zpool destroy sp2', 'sudo -n /sbin/zfs receive -u -F sp2/trust/vol0', 'sudo -n /bin/sh -c id']) {
      const r = await labExec(h2, ['su', USER, '-s', '/bin/sh', '-c', command]);
      assert.notEqual(r.code, 0, `${command}: allowed`);
      assert.match(r.stderr, /a password is required|not allowed/, `${command}: ${r.stderr}`);
    }
    assert.equal((await ok(h2, ['zpool', 'list', '-H', '-o', 'name'])).trim(), 'sp2');
    assert.match(await ok(h2, ['zfs', 'list', '-H', '-o', 'name', '-t', 'all', '-r', 'sp2']), /^sp2\nsp2\/nas\nsp2\/nas\/vol1\nsp2\/trust\nsp2\/trust\/vol0\nsp2\/trust\/vol0@t1\nsp2\/trust\/vol0@t2\n$/);
  });

  test('a second run changes nothing', async () => {
    const started = Date.now();
    const { result } = await runTrust(input, 'trust-second');
    process.stdout.write(`# second run: ${Date.now() - started} ms\n`);
    assert.equal(result.changes, 0, JSON.stringify(result, null, 1));
    for (const h of result.hosts) {
      assert.equal(h.steps.length, 6);
      for (const s of h.steps) assert.deepEqual(s.changed, [], `${h.host} ${s.step}`);
      assert.equal(h.publicKey, first.hosts.find((f) => f.host === h.host)!.publicKey, 'same key pair');
    }
  });

  test('drift is repaired and said: locked user, loose modes, a guard bypass, a foreign host key', async () => {
    const key1 = first.hosts.find((h) => h.host === 'test-san-01')!.publicKey;
    await ok(h2, ['usermod', '-L', USER]);
    await ok(h2, ['sh', '-c', `chmod 644 /home/${USER}/.ssh/authorized_keys /etc/sudoers.d/esxi-zfs-${USER} && echo '${key1}' >> /home/${USER}/.ssh/authorized_keys`]);
    await ok(h1, ['sh', '-c', `echo '${h2.storageAddress} ${h1.hostKey}' >> /home/${USER}/.ssh/known_hosts`]);
    const { result } = await runTrust(input, 'trust-drift');
    const changed = (host: string, step: string) => stepsOf(result, host).find((s) => s.step === step)!.changed;
    assert.match(changed('test-san-02', 'ensureReplicationUser').join('\n'), /was locked \('!\*'\): set '\*'/);
    assert.deepEqual(changed('test-san-02', 'installReceiveGuard'), [`/etc/sudoers.d/esxi-zfs-${USER}: mode set to 440 (was -rw-r--r--)`]);
    assert.deepEqual(changed('test-san-02', 'authorizeReplicationKeys'), [
      `/home/${USER}/.ssh/authorized_keys: removed a line not managed by esxi-zfs that let the key of test-san-01 in without the receive guard`,
    ]);
    assert.deepEqual(changed('test-san-01', 'pinReplicationHostKeys'), [
      `/home/${USER}/.ssh/known_hosts: removed a line not managed by esxi-zfs that listed a key for test-san-02 (${h2.storageAddress})`,
    ]);
    assert.equal(result.changes, 4, JSON.stringify(result, null, 1));
    assert.equal((await ok(h2, ['stat', '-c', '%a', `/home/${USER}/.ssh/authorized_keys`])).trim(), '600', 'rewritten file has mode 0600');
    assert.equal((await runTrust(input, 'trust-after-drift')).result.changes, 0);
  });

  test('the private key never left host 1: the history carries public keys only', async () => {
    const events = (await firstHandle.fetchHistory()).events ?? [];
    const text = historyText(events).join('\n');
    assert.ok(events.length < 100, `${events.length} events`);
    assert.ok(text.includes(first.hosts[0]!.publicKey.split(' ')[1]!), 'payloads decoded (the public key is there)');
    assert.doesNotMatch(text, /PRIVATE KEY/);
    const onHost = await shOn(h1, 'cat "$home/.ssh/id_ed25519"');
    assert.match(onHost.stdout, /PRIVATE KEY/);
    const body = onHost.stdout.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    assert.ok(!text.includes(body.slice(0, 40)), 'no private key material in the history');
    process.stdout.write(`# history: ${events.length} events\n`);
  });

  test("known_hosts on host 1 holds host 2's pinned key exactly as in the lab state, and no other", async () => {
    const knownHosts = (await shOn(h1, 'cat "$home/.ssh/known_hosts"')).stdout;
    const forHost2 = knownHosts.split('\n').filter((l) => l.includes(h2.storageAddress) || l.includes(h2.name));
    assert.deepEqual(forHost2, [`${h2.storageAddress},${h2.name} ${h2.hostKey} esxi-zfs:${h2.name}`]);
    const check = await shOn(h1, `ssh-keygen -F ${h2.storageAddress} -f "$home/.ssh/known_hosts"`);
    assert.match(check.stdout, new RegExp(h2.hostKey.split(' ')[1]!.replace(/[+/]/g, '\\$&')));
  });
});
