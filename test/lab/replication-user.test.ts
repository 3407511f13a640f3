/**
 * What the replication user can do (issue 13): after setupReplicationTrust on two lab storage hosts,
 * host 1's replication user, over SSH with its own key from host 1's storage address (exactly as a
 * stream logs in), tries everything but the one receive it is there for: destroy, roll back,
 * rename, read another dataset, receive into another dataset, a shell, port forwards, a second
 * command through the forced command. Each is refused, and the target's datasets are unchanged.
 * Then the target's SSH host key changes: replication from the source is refused (hostkey/host-to-host).
 * Runs as root; its own lab (.data/lab-replication-user-test), torn down at the end.
 *
 *   node --import tsx --test test/lab/replication-user.test.ts
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { labDown, labExec, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { requireInventory } from '../../inventory/load';
import { replicationJobs, replicationTrustInput } from '../../inventory/jobs';
import type { ReplicationJob } from '../../core/replication/shared';
import { fingerprint, parseHostKey } from '../../activities/ssh';
import { startReplication } from '../../scripts/replication-start';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { configureLab } from '../helpers/lab-configure';
import { on, scenarioJob } from '../helpers/lab-replication';
import { recorded, type FaultRecorder } from '../helpers/reliability';

const DIR = path.resolve(__dirname, '..', '..', '.data', 'lab-replication-user-test');
const USER = 'zfsadm';
const TARGET = 'sp2/r/guarded';

let lab: LabState;
let temporal: TestTemporal;
let src: LabHostState;
let dst: LabHostState;
let template: ReplicationJob;

/** As root on host 1: ssh as the replication user with its key and pinned known_hosts (the stream's way in). */
function asReplicationUser(sshArgs: string, opts: { stdin?: string } = {}) {
  return labExec(src, ['sh', '-c', `set -u
home=$(getent passwd ${USER} | cut -d: -f6)
${opts.stdin ?? ''} timeout 20 ssh -i "$home/.ssh/id_ed25519" -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes \\
  -o UserKnownHostsFile="$home/.ssh/known_hosts" -o BatchMode=yes -o ConnectTimeout=5 ${sshArgs}`]);
}

/** Single-quoted for sh. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Every dataset and snapshot on the target with its guid: what must not change. */
const targetState = () => on(dst, 'zfs get -H -p -r -o name,value guid sp2');

/** Sends `command` (stdin: a real stream when `stream`), expects the guard's refusal, and the target unchanged. */
async function refused(r: FaultRecorder, command: string, opts: { stream?: boolean } = {}): Promise<void> {
  const before = await targetState();
  const result = await asReplicationUser(`${USER}@${dst.storageAddress} ${q(command)}`, { stdin: opts.stream ? 'zfs send sp1/nas/vol0@u1 |' : 'echo |' });
  assert.notEqual(result.code, 0, `${command}: accepted`);
  assert.ok(result.stderr.includes(`esxi-zfs receive-guard: refused: ${command}`), `${command}: ${result.stderr}`);
  assert.equal(result.stdout, '', `${command}: printed something`);
  assert.equal(await targetState(), before, `${command}: the target's datasets changed`);
  r.verified(`refused by the receive guard, target unchanged: ${JSON.stringify(command)}`);
}

before(async () => {
  await labDown({ dir: DIR });
  [lab, temporal] = await Promise.all([labUp({ names: ['ru-san-01', 'ru-san-02'], dir: DIR }), startTestTemporal('replication-user')]);
  [src, dst] = lab.hosts as [LabHostState, LabHostState];
  await configureLab(temporal, lab);
  const inventory = requireInventory(lab.inventoryFile);
  template = replicationJobs(inventory)[0]!;
  const trust = replicationTrustInput(inventory);
  trust.edges = [{ source: template.source.host, target: template.target.host, targetDataset: TARGET }];
  await temporal.withWorker(() => temporal.client.workflow.execute('setupReplicationTrust', { taskQueue: temporal.taskQueue, workflowId: `trust-${process.pid}`, args: [trust] }));
  // The target as replication leaves it, through the guard: sp2/r/guarded@u1; another dataset with a snapshot beside it.
  await on(dst, 'zfs create -p sp2/r && zfs create sp2/other && echo other > "$(zfs get -H -o value mountpoint sp2/other)/file" && zfs snapshot sp2/other@s1');
  await on(src, 'echo data > /export/ru-san-01-nas-vol0/file && zfs snapshot sp1/nas/vol0@u1');
  const positive = await asReplicationUser(`${USER}@${dst.storageAddress} ${q(`zfs receive -u ${TARGET}`)}`, { stdin: 'zfs send sp1/nas/vol0@u1 |' });
  assert.equal(positive.code, 0, `the receive the user is there for: ${positive.stderr}`);
  assert.match(await targetState(), new RegExp(`^${TARGET}@u1\\t`, 'm'));
});

after(async () => {
  await temporal?.stop();
  await labDown({ dir: DIR });
});

describe('the replication user can do only its receive', { timeout: 240_000 }, () => {
  test('destroy a dataset or a snapshot', recorded('replication-user/destroy', async (r) => {
    r.happened('zfs destroy of the target, its snapshot, another dataset, recursively, and zpool destroy, over SSH as the replication user: each refused by the receive guard (the forced command).');
    for (const c of [`zfs destroy ${TARGET}@u1`, `zfs destroy -r ${TARGET}`, 'zfs destroy -r sp2/other', 'zpool destroy sp2', `sudo -n zfs destroy ${TARGET}@u1`]) await refused(r, c);
  }));

  test('roll back', recorded('replication-user/rollback', async (r) => {
    r.happened('zfs rollback, and a forced receive (-F, which rolls back), over SSH as the replication user: refused by the receive guard.');
    await refused(r, `zfs rollback -r ${TARGET}@u1`);
    await refused(r, `zfs receive -u -F ${TARGET}`, { stream: true });
  }));

  test('rename', recorded('replication-user/rename', async (r) => {
    r.happened('zfs rename of the target, of its snapshot and of another dataset: refused by the receive guard.');
    for (const c of [`zfs rename ${TARGET} sp2/r/moved`, `zfs rename ${TARGET}@u1 ${TARGET}@moved`, 'zfs rename sp2/other sp2/r/other']) await refused(r, c);
  }));

  test('read (send) a dataset that is not its target', recorded('replication-user/read-other', async (r) => {
    r.happened('zfs send of another dataset\'s snapshot (and of the target\'s own: reading is not its job either), and a cat of a file: refused, no byte on stdout.');
    for (const c of ['zfs send sp2/other@s1', `zfs send ${TARGET}@u1`, 'zfs send -R sp2@s1', 'cat /export/ru-san-02-nas-vol1/file']) await refused(r, c);
  }));

  test('receive into a dataset that is not its target', recorded('replication-user/receive-other', async (r) => {
    r.happened('a real stream offered to zfs receive into another dataset, a child and a look-alike of the target, with -d/-e, -o and -x: refused, nothing received.');
    for (const c of ['zfs receive -u sp2/other', `zfs receive -u ${TARGET}/child`, `zfs receive -u ${TARGET}x`, 'zfs receive -u -d sp2', 'zfs receive -u -e sp2/r',
      `zfs receive -u -o mountpoint=/etc ${TARGET}`, `zfs receive -u -x mountpoint ${TARGET}`, `zfs receive ${TARGET}`]) {
      await refused(r, c, { stream: true });
    }
  }));

  test('a shell', recorded('replication-user/shell', async (r) => {
    r.happened('ssh with no command, with a forced pty (-tt) and with a shell as the command, `id` on stdin: no shell, no pty, nothing ran.');
    for (const args of [`${USER}@${dst.storageAddress}`, `-tt ${USER}@${dst.storageAddress}`, `-tt ${USER}@${dst.storageAddress} /bin/sh`, `${USER}@${dst.storageAddress} 'sh -i'`]) {
      const result = await asReplicationUser(args, { stdin: 'echo id |' });
      assert.notEqual(result.code, 0, `${args}: accepted`);
      assert.doesNotMatch(result.stdout + result.stderr, /uid=\d+/, `${args}: a shell ran id`);
      if (args.startsWith('-tt')) {
        // sshd denies the pty (no-pty); the session ends without output (ssh exits 1 or 255).
        assert.match(result.stderr, /PTY allocation request failed/, `${args}: ${result.stderr}`);
        assert.equal(result.stdout, '', `${args}: ${result.stdout}`);
      } else assert.match(result.stderr, /esxi-zfs receive-guard: refused: /, `${args}: ${result.stderr}`);
      r.verified(`no shell: ssh ${args.replace(dst.storageAddress, 'TARGET')} ${args.startsWith('-tt') ? `denied the pty by sshd (no-pty), ended with exit ${result.code} and no output` : 'refused by the receive guard'}`);
    }
  }));

  test('a port forward', recorded('replication-user/port-forward', async (r) => {
    r.happened('ssh -N -L to the target\'s own sshd and ssh -N -R from the target back: the local listener opens but every connection through it is refused by sshd (no-port-forwarding); the remote forward is refused at once.');
    // -L: the listener is ssh's own; a connection through it must not reach the target's sshd (whose banner a direct connection gets).
    const local = await labExec(src, ['sh', '-c', `set -u
home=$(getent passwd ${USER} | cut -d: -f6)
ssh -i "$home/.ssh/id_ed25519" -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$home/.ssh/known_hosts" \\
  -o BatchMode=yes -o ConnectTimeout=5 -N -L 127.0.0.1:10022:127.0.0.1:22 ${USER}@${dst.storageAddress} 2>/tmp/forward.err &
pid=$!
for i in $(seq 1 100); do ss -ltn | grep -q '127.0.0.1:10022 ' && break; sleep 0.1; done
ss -ltn | grep -q '127.0.0.1:10022 ' || { echo 'no listener'; kill $pid; exit 3; }
direct=$(timeout 5 bash -c 'exec 3<>/dev/tcp/${dst.storageAddress}/22; head -c 7 <&3' || true)
through=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/10022; head -c 7 <&3' || true)
kill $pid; wait $pid 2>/dev/null
echo "direct=$direct"
echo "through=$through"
cat /tmp/forward.err`]);
    assert.equal(local.code, 0, local.stdout + local.stderr);
    assert.match(local.stdout, /^direct=SSH-2.0$/m, 'control: the target\'s sshd answers a direct connection');
    assert.match(local.stdout, /^through=$/m, `a connection through -L reached something: ${local.stdout}`);
    assert.match(local.stdout, /administratively prohibited|open failed/, local.stdout);
    r.verified('-L: the listener opens on the source but a connection through it gets nothing (channel open refused: administratively prohibited); a direct connection gets the SSH banner');

    const remote = await asReplicationUser(`-N -o ExitOnForwardFailure=yes -R 127.0.0.1:10023:127.0.0.1:22 ${USER}@${dst.storageAddress}`);
    assert.equal(remote.code, 255, remote.stderr);
    assert.match(remote.stderr, /remote port forwarding failed for listen port 10023/);
    assert.doesNotMatch(await on(dst, 'ss -ltn'), /:10023 /, 'nothing listens on the target');
    r.verified('-R: refused by sshd (remote port forwarding failed), nothing listens on the target');
  }));

  test('another command through the forced command', recorded('replication-user/other-command', async (r) => {
    r.happened('the allowed receive followed by a second command (;, &&, ||, |, $(...), backticks, a newline, a second ssh argument), each trying to create a file on the target: refused as a whole, the file never made.');
    const mark = '/tmp/esxi-zfs-guard-escape';
    await on(dst, `rm -f ${mark}`);
    const allowed = `zfs receive -u ${TARGET}`;
    for (const c of [`${allowed}; touch ${mark}`, `${allowed} && touch ${mark}`, `${allowed} || touch ${mark}`, `${allowed} | touch ${mark}`,
      `${allowed}$(touch ${mark})`, `${allowed}\`touch ${mark}\``, `${allowed}\ntouch ${mark}`, `${allowed} ${mark}`]) {
      await refused(r, c, { stream: true });
    }
    // Two ssh arguments: ssh joins them with a space into one SSH_ORIGINAL_COMMAND.
    const two = await asReplicationUser(`${USER}@${dst.storageAddress} ${q(allowed)} ${q(`; touch ${mark}`)}`, { stdin: 'zfs send sp1/nas/vol0@u1 |' });
    assert.notEqual(two.code, 0);
    assert.ok(two.stderr.includes(`refused: ${allowed} ; touch ${mark}`), two.stderr);
    assert.equal((await labExec(dst, ['test', '-e', mark])).code, 1, `${mark} was made on the target`);
    r.verified(`no command ran: ${mark} does not exist on the target`);
  }));
});

describe("the target's SSH host key changed (host to host)", { timeout: 120_000 }, () => {
  test('replication is refused naming the pinned and the offered fingerprints, not retried, nothing received', recorded('hostkey/host-to-host', async (r) => {
    const pinned = parseHostKey(dst.hostKey);
    // A new host key for the target, as a reinstall or an impostor would have; sshd re-reads it on SIGHUP.
    await on(dst, 'rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub && ssh-keygen -q -t ed25519 -N "" -C "" -f /etc/ssh/ssh_host_ed25519_key');
    const [type, body] = (await on(dst, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).trim().split(/\s+/);
    const offered = fingerprint(Buffer.from(body!, 'base64'));
    process.kill(dst.pids.sshd, 'SIGHUP');
    for (let i = 0; ; i++) {
      const scan = await labExec(src, ['ssh-keyscan', '-T', '2', '-t', 'ed25519', dst.storageAddress]);
      if (scan.stdout.includes(body!)) break;
      assert.ok(i < 50, `the target's sshd does not offer the new key: ${scan.stdout}${scan.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    r.happened(`the target's sshd got a new ed25519 host key (${offered}; pinned ${pinned.fingerprint}); the inventory was updated with it (so the worker reaches the target), the source's pinning was not.`);
    const before = await targetState();
    const job = scenarioJob(template, 'x', {
      source: { ...template.source, dataset: 'sp1/nas/vol0' },
      target: { ...template.target, host: { ...template.target.host, hostKey: `${type} ${body}` }, dataset: TARGET },
    });
    r.recoveryStarted();
    const { handle } = await startReplication(temporal.client, job);
    const error = await temporal.withWorker(() => handle.result()).then(() => undefined, (e: unknown) => e);
    r.recovered();
    assert.ok(error instanceof WorkflowFailedError, `replication did not fail: ${String(error)}`);
    const cause = (error.cause?.cause ?? error.cause) as { message: string; type?: string; nonRetryable?: boolean };
    const message = cause.message;
    assert.ok(message.includes(pinned.fingerprint), `the pinned fingerprint ${pinned.fingerprint} is not named: ${message}`);
    assert.ok(message.includes(offered), `the offered fingerprint ${offered} is not named: ${message}`);
    r.verified(`the failure names the pinned (${pinned.fingerprint}) and the offered (${offered}) fingerprint: ${message.split('\n')[0]}`);
    assert.equal(cause.type, 'HostKeyMismatch', JSON.stringify(cause));
    const events = (await handle.fetchHistory()).events ?? [];
    const attempts = events.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    assert.ok(attempts.every((a) => a === 1), `an activity was retried: attempts ${attempts.join(',')}`);
    r.verified('non-retryable (type HostKeyMismatch): no activity attempt after the first');
    assert.equal(await targetState(), before, 'something was received');
    r.verified('nothing received: the target\'s datasets unchanged');
  }));
});
