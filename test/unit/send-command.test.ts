import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { sh } from '../../core/quote';
import { closerScript, openerScript, receiveCommand, streamScript } from '../../activities/replication/send-command';
import { sendFlags } from '../../core/zfs/send-flags';
import { counterStage, parseByteCounter, SPLICE_COUNTER_MARK } from '../../activities/replication/byte-counter';
import { parseResumeTokenCheck } from '../../activities/replication/resume';
import { capabilities } from '../../core/zfs/capabilities';

const v23 = capabilities(23, []);
const openzfs = capabilities('feature-flags', ['extensible_dataset', 'lz4_compress', 'large_blocks', 'embedded_data', 'bookmarks']);

test('send flags follow the inventory and what both pools offer', () => {
  assert.deepEqual(sendFlags({ options: ['properties', 'dedup'], recursive: false, common: v23, sourcePoolVersion: 23 }), { flags: ['-p', '-D'], warnings: [] });
  assert.deepEqual(sendFlags({ options: ['properties'], recursive: true, common: v23, sourcePoolVersion: 23 }).flags, ['-R'], '-R carries properties itself');
  const old = sendFlags({ options: ['properties', 'compressed', 'largeBlocks'], recursive: false, common: v23, sourcePoolVersion: 23 });
  assert.deepEqual(old.flags, ['-p']);
  assert.equal(old.warnings.length, 2);
  assert.deepEqual(sendFlags({ options: ['compressed', 'largeBlocks', 'embedded'], recursive: false, common: openzfs, sourcePoolVersion: 'feature-flags' }).flags, ['-c', '-L', '-e']);
  const dedup = sendFlags({ options: ['dedup'], recursive: false, common: openzfs, sourcePoolVersion: 'feature-flags' });
  assert.deepEqual(dedup.flags, []);
  assert.match(dedup.warnings[0]!, /dedup/);
});

test('the stream script: golden text, every name quoted, the receive side as one word', () => {
  const connection = {
    user: 'zfsadm', address: '10.0.1.42', port: 22,
    home: '/export/home/zfsadm',
    ciphers: ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
  };
  const script = streamScript({
    zfs: 'zfs',
    flags: ['-p'],
    sendArgs: ['-I', '@esxi-zfs_20261124T235900Z', 'sp1/nas/vol0@esxi-zfs_20261125T235900Z'],
    connection,
    target: { dataset: 'sp2/nas/vol0', resumable: false },
    counter: 'pv',
  });
  const ssh = 'ssh -T -c aes128-gcm@openssh.com,chacha20-poly1305@openssh.com -i /export/home/zfsadm/.ssh/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/export/home/zfsadm/.ssh/known_hosts -o ConnectTimeout=30 -o ServerAliveInterval=10 -o ServerAliveCountMax=3 -o ControlPath=%d/.ssh/esxi-zfs-%C -p 22';
  assert.equal(script.text, `exec 3>&1 >&2
echo "esxi-zfs-pid $$" >&3
ctl=$(${ssh} -G zfsadm@10.0.1.42 2>/dev/null | sed -n 's/^controlpath //p')
n=0
while [ -n "$ctl" ] && [ ! -S "$ctl" ] && [ $n -lt 3000 ] && [ -f "$ctl.opening" ] && read -r opener < "$ctl.opening" && kill -0 "$opener" 2>/dev/null; do
  sleep 0.01 2>/dev/null || sleep 1
  n=$((n + 1))
done
{ zfs send -p -I @esxi-zfs_20261124T235900Z sp1/nas/vol0@esxi-zfs_20261125T235900Z & echo "esxi-zfs-send-pid $!" >&3; wait $!; echo "esxi-zfs-send-exit $?" >&3; } | pv -f -n -b -i 1 2>&3 | ${ssh} -o ControlMaster=auto -o ControlPersist=60s zfsadm@10.0.1.42 'zfs receive -u sp2/nas/vol0'
r=$?
echo "esxi-zfs-receive-exit $r" >&3
exit $r
`);
  assert.deepEqual(receiveCommand('sp2/nas/vol0', true), ['zfs', 'receive', '-u', '-s', 'sp2/nas/vol0']);
  const sshInHome = ssh.replace(/\/export\/home\/zfsadm/g, '"$home"');
  assert.equal(openerScript(connection).text, `home=$(getent passwd zfsadm | cut -d: -f6)
case $home in /*) ;; *) echo no zfsadm; exit 0;; esac
ctl=$(${sshInHome} -G zfsadm@10.0.1.42 2>/dev/null | sed -n 's/^controlpath //p')
[ -n "$ctl" ] || { echo direct; exit 0; }
[ -S "$ctl" ] && { echo open; exit 0; }
if [ -f "$ctl.opening" ] && read -r opener < "$ctl.opening" && kill -0 "$opener" 2>/dev/null; then echo opening; exit 0; fi
( ${sshInHome} -o ControlMaster=auto -o ControlPersist=60s zfsadm@10.0.1.42; rm -f "$ctl.opening" ) </dev/null >/dev/null 2>&1 &
echo $! > "$ctl.opening"
echo started
`);
});

/**
 * The stream's wait for the shared connection, run for real by sh with a FAKE `ssh` on PATH (it
 * answers -G with a control path in a temporary directory and logs every other call) and a fake
 * `zfs` (prints a few bytes): the stream connects only once the opener's socket exists, or at once
 * when no opener is running.
 */
describe('the stream waits for the connection its run is opening', () => {
  let dir: string;
  let ctl: string;
  let log: string;
  const connection = { user: 'zfsadm', address: '10.0.1.42', port: 22, home: '/h', ciphers: ['aes128-gcm@openssh.com'] };
  const start = () => {
    const script = streamScript({ zfs: path.join(dir, 'zfs'), flags: [], sendArgs: ['sp1/a@s'], connection, target: { dataset: 'sp2/a', resumable: false }, counter: 'none' });
    const child = spawn('sh', ['-c', script.text], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', () => resolve(out));
    });
    return { child, done };
  };
  const connected = () => fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('connect ')).length;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esxi-zfs-wait-'));
    ctl = path.join(dir, 'ctl');
    log = path.join(dir, 'ssh.log');
    fs.writeFileSync(log, '');
    fs.writeFileSync(path.join(dir, 'ssh'), `#!/bin/sh\ncase " $* " in *" -G "*) echo "controlpath ${ctl}"; exit 0;; esac\necho "connect $*" >> ${log}\ncat > /dev/null\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'zfs'), '#!/bin/sh\necho stream-bytes\n', { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('an opener running: no connection until its socket exists', async () => {
    const opener = spawn('sleep', ['30']);
    try {
      fs.writeFileSync(`${ctl}.opening`, `${opener.pid}\n`);
      const stream = start();
      await sleep(500);
      assert.equal(connected(), 0, 'waiting for the socket');
      const socket = net.createServer().listen(ctl);
      try {
        const out = await stream.done;
        assert.match(out, /esxi-zfs-receive-exit 0/);
        assert.equal(connected(), 1);
      } finally {
        socket.close();
      }
    } finally {
      opener.kill();
    }
  });

  test('no opener, or one that is gone: straight on', async () => {
    assert.match(await start().done, /esxi-zfs-receive-exit 0/);
    fs.writeFileSync(`${ctl}.opening`, '2147483646\n');
    assert.match(await start().done, /esxi-zfs-receive-exit 0/);
    assert.equal(connected(), 2);
  });
});

/**
 * The closer a trust change runs on a source, against a fake `ssh` (answers -G with a control path
 * in a temporary directory, `-O stop` with the exit status in its file) and a fake `getent`.
 */
test('the closer stops the shared connection: none without a socket, stopped, or a dead socket removed', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esxi-zfs-close-'));
  const ctl = path.join(dir, 'ctl');
  const log = path.join(dir, 'ssh.log');
  const exitFile = path.join(dir, 'stop-exit');
  fs.writeFileSync(path.join(dir, 'ssh'), `#!/bin/sh\ncase " $* " in *" -G "*) echo "controlpath ${ctl}"; exit 0;; esac\necho "$*" >> ${log}\nexit $(cat ${exitFile})\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'getent'), '#!/bin/sh\necho "zfsadm:x:1001:1001::/home/zfsadm:/bin/sh"\n', { mode: 0o755 });
  const script = closerScript({ user: 'zfsadm', address: '10.0.1.42', port: 22, ciphers: [] });
  const close = () => spawnSync('sh', ['-c', script.text], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8' }).stdout.trim();
  const socket = net.createServer();
  try {
    assert.equal(close(), 'none');
    await new Promise<void>((resolve) => socket.listen(ctl, resolve));
    fs.writeFileSync(exitFile, '0');
    assert.equal(close(), 'stopped');
    assert.match(fs.readFileSync(log, 'utf8'), /-O stop zfsadm@10\.0\.1\.42$/m);
    assert.doesNotMatch(fs.readFileSync(log, 'utf8'), / -c /, 'no cipher list: the closer starts no session');
    fs.writeFileSync(exitFile, '255');
    assert.equal(close(), 'removed');
    assert.equal(fs.existsSync(ctl), false);
  } finally {
    socket.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a resume token: its snapshot guid, or why it cannot be resumed', () => {
  const ok = `resume token contents:
nvlist version: 0
	object = 0x6
	offset = 0x4c0000
	bytes = 0x4c5f28
	toguid = 0xf2a6c4b1d3e5a7c9
	toname = sp1/nas/vol0@esxi-zfs_20261125T235900Z
send from sp1/nas/vol0@esxi-zfs_20261125T235900Z estimated size is 1.20G`;
  assert.deepEqual(parseResumeTokenCheck(0, ok), { toguid: BigInt('0xf2a6c4b1d3e5a7c9').toString() });
  assert.deepEqual(
    parseResumeTokenCheck(255, "cannot resume send: 'sp1/nas/vol0@esxi-zfs_20261125T235900Z' used in the initial send no longer exists"),
    { reason: "cannot resume send: 'sp1/nas/vol0@esxi-zfs_20261125T235900Z' used in the initial send no longer exists" },
  );
});

test('the byte counter: probe answers, the pipe stage of each', () => {
  assert.equal(parseByteCounter('splice\n'), 'splice');
  assert.equal(parseByteCounter('pv'), 'pv');
  assert.equal(parseByteCounter(''), 'none');
  assert.equal(counterStage('none').text, '');
  assert.equal(counterStage('pv').text, 'pv -f -n -b -i 1 2>&3 | ');
  assert.ok(counterStage('splice').text.startsWith(`python3 -c '${SPLICE_COUNTER_MARK}`), 'pkill -f can find it by its first line');
});

test('the splice counter copies the stream unchanged and reports its exact length on fd 3', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esxi-zfs-counter-'));
  try {
    const [input, output, counts] = ['in', 'out', 'counts'].map((f) => path.join(dir, f)) as [string, string, string];
    fs.writeFileSync(input, crypto.randomBytes(5 * 1024 * 1024 + 17));
    const script = sh`exec 3>${counts}; cat ${input} | ${counterStage('splice')}cat > ${output}`;
    const run = spawnSync('sh', ['-c', script.text], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(fs.readFileSync(output).equals(fs.readFileSync(input)));
    assert.equal(fs.readFileSync(counts, 'utf8').trim().split('\n').at(-1), String(5 * 1024 * 1024 + 17));
    // The receiving side gone (ssh died): a failure status, and no Python traceback in the messages.
    const cut = spawnSync('sh', ['-c', sh`exec 3>/dev/null; cat ${input} | ${counterStage('splice')}head -c 1000 >/dev/null`.text], { encoding: 'utf8' });
    assert.doesNotMatch(cut.stderr, /Traceback/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
