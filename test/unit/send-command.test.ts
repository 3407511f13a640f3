import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { sh } from '../../activities/ssh/quote';
import { receiveCommand, streamScript } from '../../activities/replication/send-command';
import { sendFlags } from '../../activities/replication/send-flags';
import { counterStage, parseByteCounter, SPLICE_COUNTER_MARK } from '../../activities/replication/byte-counter';
import { parseResumeTokenCheck } from '../../activities/replication/resume';
import { capabilities } from '../../activities/zfs/capabilities';

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
    identityFile: '/export/home/zfsadm/.ssh/id_ed25519',
    knownHostsFile: '/export/home/zfsadm/.ssh/known_hosts',
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
{ zfs send -p -I @esxi-zfs_20261124T235900Z sp1/nas/vol0@esxi-zfs_20261125T235900Z; echo "esxi-zfs-send-exit $?" >&3; } | pv -f -n -b -i 1 2>&3 | ${ssh} -o ControlMaster=auto -o ControlPersist=60s zfsadm@10.0.1.42 'zfs receive -u sp2/nas/vol0'
r=$?
echo "esxi-zfs-receive-exit $r" >&3
exit $r
`);
  assert.deepEqual(receiveCommand('sp2/nas/vol0', true), ['zfs', 'receive', '-u', '-s', 'sp2/nas/vol0']);
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
