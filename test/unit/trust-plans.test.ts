/**
 * Replication trust as data: the illumos plan (golden, cannot run here), the receive guard, the
 * sudoers rule, the authorized_keys / known_hosts merges, and the workflow's plan of who trusts whom.
 *
 *   node --import tsx --test test/unit/trust-plan.test.ts
 */
import { modeBits, parseFileFacts } from '../../core/files';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { TrustConfigError } from '../../core/trust/checks';
import { authorizedKeyLine, mergeAuthorizedKeys, parseAuthorizedKeyLine } from '../../core/trust/authorized-keys';
import { guardScript, parseZfsAllow, sudoersText, zfsAllowPlan } from '../../core/trust/guard';
import { knownHostsLine, mergeKnownHosts } from '../../core/trust/known-hosts';
import { parsePasswd } from '../../core/trust/keys';
import { replicationUserPlan } from '../../core/trust/user';
import type { PinnedTarget, SourceKey } from '../../core/trust/shared';
import { trustPlan } from '../../core/trust/ring';
import { parseInventory } from '../../inventory/load';
import { replicationTrustInput } from '../../inventory/jobs';
import type { StorageHostRef } from '../../core/hosts';

const hashHostName = (salt: string, name: string) => createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
const KEY1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIHxSW1n8m0aOZ8Nx4kq3kX0s5o1Yb7n0KQ0a2s3d4f5g';
const KEY2 = 'AAAAC3NzaC1lZDI1NTE5AAAAIJ9cB8vTz3wq2c0Y6r5mN1aPqL7dF0hS2e4k6u8i0o1p';
const KEY3 = 'AAAAC3NzaC1lZDI1NTE5AAAAIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfG';

const uss1: SourceKey = { name: 'uss1', storageAddress: '10.0.1.41', publicKey: `ssh-ed25519 ${KEY1} zfsadm@uss1`, datasets: ['sp2/nas/vol0'] };
const uss2Target: PinnedTarget = { name: 'uss2', storageAddress: '10.0.1.42', hostKey: `ssh-ed25519 ${KEY2}` };

const GUARD_LINE_USS1 =
  `command="/usr/local/libexec/esxi-zfs/receive-guard sp2/nas/vol0",from="10.0.1.41",no-pty,no-port-forwarding,` +
  `no-agent-forwarding,no-X11-forwarding,no-user-rc ssh-ed25519 ${KEY1} esxi-zfs:uss1`;

describe('illumos plan (golden: illumos cannot run on this machine)', () => {
  test('illumos: a missing user is created as in the runbook, then passwd -N', () => {
    assert.deepEqual(replicationUserPlan('illumos', 'zfsadm', {}).map((s) => s.argv), [
      ['useradd', '-m', '-d', '/export/home/zfsadm', '-s', '/bin/sh', '-P', 'ZFS File System Management', 'zfsadm'],
      ['passwd', '-N', 'zfsadm'],
    ]);
  });

  test('an existing account of the OS itself (uid below the profile\'s first regular uid) is refused unless allowed', () => {
    const daemon = { user: 'daemon', uid: 1, gid: 1, home: '/', shell: '/usr/sbin/nologin' };
    assert.throws(() => replicationUserPlan('linux', 'daemon', { passwd: daemon }), /uid 1, an account of the OS itself \(below 1000 on linux\).*allowSystemUser/);
    assert.throws(() => replicationUserPlan('linux', 'backup', { passwd: { ...daemon, user: 'backup', uid: 999 } }), /uid 999/);
    assert.throws(() => replicationUserPlan('illumos', 'nuucp', { passwd: { ...daemon, user: 'nuucp', uid: 9 } }), /below 100 on illumos/);
    assert.doesNotThrow(() => replicationUserPlan('illumos', 'zfsadm', { passwd: { ...daemon, user: 'zfsadm', uid: 100, shell: '/bin/sh' } }));
    assert.doesNotThrow(() => replicationUserPlan('linux', 'zfsadm', { passwd: { ...daemon, user: 'zfsadm', uid: 1000, shell: '/bin/sh' } }));
    assert.deepEqual(replicationUserPlan('linux', 'daemon', { passwd: daemon }, true).map((s) => s.argv), [['usermod', '-s', '/bin/sh', 'daemon']]);
  });

  test('illumos: an existing locked user (*LK*) gets passwd -N; an NP one is left alone', () => {
    const passwd = { user: 'zfsadm', uid: 101, gid: 10, home: '/export/home/zfsadm', shell: '/bin/bash' };
    assert.deepEqual(replicationUserPlan('illumos', 'zfsadm', { passwd, password: '*LK*' }).map((s) => s.argv), [['passwd', '-N', 'zfsadm']]);
    assert.deepEqual(replicationUserPlan('illumos', 'zfsadm', { passwd, password: 'NP' }), []);
  });

  test('illumos: zfs allow -u on the parent of each received dataset (the profile, narrowed to receiving)', () => {
    assert.deepEqual(zfsAllowPlan('/usr/sbin/zfs', 'zfsadm', ['sp2/nas/vol0', 'sp2/nas/vol1', 'sp2/vol9']).map((s) => s.argv), [
      ['/usr/sbin/zfs', 'allow', '-u', 'zfsadm', 'receive,create,mount,hold,release', 'sp2/nas'],
      ['/usr/sbin/zfs', 'allow', '-u', 'zfsadm', 'receive,create,mount,hold,release', 'sp2'],
    ]);
  });

  test('illumos: zfs allow is skipped where the delegation is already there (both output formats)', () => {
    const openzfs = [
      '---- Permissions on sp2/nas -----------------------------------------',
      'Local+Descendent permissions:',
      '\tuser zfsadm create,hold,mount,receive,release',
      '',
    ].join('\n');
    const snv134 = [
      '-------------------------------------------------------------',
      'Local+Descendent permissions on (sp2/nas)',
      '\tuser zfsadm create,hold,mount,receive,release',
      '-------------------------------------------------------------',
    ].join('\n');
    const localOnly = ['---- Permissions on sp2/nas ----', 'Local permissions:', '\tuser zfsadm create,hold,mount,receive,release'].join('\n');
    for (const out of [openzfs, snv134]) {
      assert.deepEqual([...parseZfsAllow(out, 'zfsadm')].sort(), ['create', 'hold', 'mount', 'receive', 'release']);
      assert.deepEqual(zfsAllowPlan('/usr/sbin/zfs', 'zfsadm', ['sp2/nas/vol0'], new Map([['sp2/nas', out]])), []);
    }
    assert.equal(zfsAllowPlan('/usr/sbin/zfs', 'zfsadm', ['sp2/nas/vol0'], new Map([['sp2/nas', localOnly]])).length, 1);
    assert.equal(parseZfsAllow(openzfs, 'other').size, 0);
  });

  test('illumos: the receive guard runs zfs directly (delegation, no sudo)', () => {
    const text = guardScript({ zfs: '/usr/sbin/zfs' });
    assert.match(text, /\n\t\texec \/usr\/sbin\/zfs receive -u "\$dataset"\n/);
    assert.match(text, /\n\t\texec \/usr\/sbin\/zfs receive -u -s "\$dataset"\n/);
    assert.doesNotMatch(text, /sudo/);
  });
});

describe('linux plan', () => {
  test('a missing user: useradd -m -s /bin/sh, then password * (UsePAM no refuses ! accounts)', () => {
    assert.deepEqual(replicationUserPlan('linux', 'zfsadm', {}).map((s) => s.argv), [
      ['useradd', '-m', '-s', '/bin/sh', '-c', 'esxi-zfs replication', 'zfsadm'],
      ['usermod', '-p', '*', 'zfsadm'],
    ]);
  });

  test('an existing user: locked ! or !! unlocked to *, nologin shell replaced, a ready one untouched', () => {
    const passwd = { user: 'zfsadm', uid: 1000, gid: 1000, home: '/home/zfsadm', shell: '/bin/sh' };
    assert.deepEqual(replicationUserPlan('linux', 'zfsadm', { passwd, password: '!' }).map((s) => s.argv), [['usermod', '-p', '*', 'zfsadm']]);
    assert.deepEqual(replicationUserPlan('linux', 'zfsadm', { passwd, password: '!!' }).map((s) => s.argv), [['usermod', '-p', '*', 'zfsadm']]);
    assert.deepEqual(replicationUserPlan('linux', 'zfsadm', { passwd, password: '*' }), []);
    assert.deepEqual(
      replicationUserPlan('linux', 'zfsadm', { passwd: { ...passwd, shell: '/usr/sbin/nologin' }, password: '*' }).map((s) => s.argv),
      [['usermod', '-s', '/bin/sh', 'zfsadm']],
    );
  });

  test('the guard grows its stdin pipe to 1 MiB (its perl line, run on this Linux machine)', () => {
    const line = guardScript({ zfs: '/usr/sbin/zfs', sudo: '/usr/bin/sudo', perl: '/usr/bin/perl' }).split('\n').find((l) => l.startsWith('/usr/bin/perl '))!;
    // A real pipe, as sshd gives the guard (node's own stdio pipes are socket pairs).
    const size = spawnSync('sh', ['-c', `echo stream | { ${line}; /usr/bin/perl -e 'print fcntl(STDIN, 1032, 0)'; }`], { encoding: 'utf8' });
    assert.equal(size.stdout, String(1 << 20), size.stderr);
  });

  test('the receive guard text, exactly (sudo variant)', () => {
    assert.equal(
      guardScript({ zfs: '/usr/sbin/zfs', sudo: '/usr/bin/sudo', perl: '/usr/bin/perl' }),
      `#!/bin/sh
# esxi-zfs receive-guard: written by setupReplicationTrust (changes are overwritten).
# The forced command of every key authorized for the replication user. Its arguments are the
# datasets this host receives into; it runs "zfs receive -u [-s] DATASET" for one of them and
# nothing else. The command the client sent is compared as a whole string, never parsed.
# The stream comes from sshd through a 64 KiB pipe: 1 MiB (F_SETPIPE_SZ, Linux) lets sshd go on
# reading while zfs receive waits for a txg sync (about 5 % on a full send, measured). Best effort.
/usr/bin/perl -e 'fcntl(STDIN, 1031, 1 << 20)' 2>/dev/null
cmd=\${SSH_ORIGINAL_COMMAND-}
for dataset in "$@"; do
	if [ "$cmd" = "zfs receive -u $dataset" ]; then
		exec /usr/bin/sudo -n /usr/sbin/zfs receive -u "$dataset"
	fi
	if [ "$cmd" = "zfs receive -u -s $dataset" ]; then
		exec /usr/bin/sudo -n /usr/sbin/zfs receive -u -s "$dataset"
	fi
done
printf 'esxi-zfs receive-guard: refused: %s\\n' "$cmd" >&2
exit 1
`,
    );
  });

  test('the sudoers text: exact-argument rules, one pair per dataset, no wildcard', () => {
    assert.equal(
      sudoersText('zfsadm', '/sbin/zfs', ['sp2/nas/vol0']),
      '# esxi-zfs: what the replication user zfsadm may run as root, written by setupReplicationTrust\n' +
        '# (changes are overwritten). Exact commands only; its receive guard runs them.\n' +
        'zfsadm ALL=(root) NOPASSWD: /sbin/zfs receive -u sp2/nas/vol0, /sbin/zfs receive -u -s sp2/nas/vol0\n',
    );
    const two = sudoersText('zfsadm', '/sbin/zfs', ['sp2/nas/vol1', 'sp2/nas:x', 'sp2/nas/vol1']);
    assert.match(two, /NOPASSWD: \/sbin\/zfs receive -u sp2\/nas\/vol1, \/sbin\/zfs receive -u -s sp2\/nas\/vol1, \/sbin\/zfs receive -u sp2\/nas\\:x, \/sbin\/zfs receive -u -s sp2\/nas\\:x\n$/);
    assert.doesNotMatch(two, /\*/);
  });

  test('names that could become syntax are refused before any text is made', () => {
    assert.throws(() => sudoersText('zfsadm', '/sbin/zfs', ['sp2/nas/vol0 ALL']), TrustConfigError);
    assert.throws(() => sudoersText('zfsadm', '/sbin/zfs', ['sp2/*']), TrustConfigError);
    assert.throws(() => sudoersText('zfs.adm', '/sbin/zfs', ['sp2/a']), TrustConfigError);
    assert.throws(() => sudoersText('zfsadm', '/sbin/zfs', []), TrustConfigError);
    assert.throws(() => authorizedKeyLine({ ...uss1, datasets: ['sp2/a"b'] }), TrustConfigError);
    assert.throws(() => authorizedKeyLine({ ...uss1, storageAddress: '10.0.1.41",x' }), TrustConfigError);
    assert.throws(() => authorizedKeyLine({ ...uss1, publicKey: 'not a key' }), TrustConfigError);
    assert.throws(() => replicationUserPlan('linux', 'root;id', {}), TrustConfigError);
  });
});

describe('authorized_keys', () => {
  test('the managed line: guard, from=, no pty or forwarding, tagged with the source', () => {
    assert.equal(authorizedKeyLine(uss1), GUARD_LINE_USS1);
    assert.equal(
      authorizedKeyLine({ ...uss1, datasets: ['sp2/nas/vol1', 'sp2/nas/vol0'] }).split(' ')[0],
      'command="/usr/local/libexec/esxi-zfs/receive-guard',
    );
    assert.match(authorizedKeyLine({ ...uss1, datasets: ['sp2/nas/vol1', 'sp2/nas/vol0'] }), /receive-guard sp2\/nas\/vol0 sp2\/nas\/vol1",from=/);
    assert.deepEqual(parseAuthorizedKeyLine(GUARD_LINE_USS1), {
      options: GUARD_LINE_USS1.slice(0, GUARD_LINE_USS1.indexOf(' ssh-ed25519')),
      type: 'ssh-ed25519',
      blob: KEY1,
      comment: 'esxi-zfs:uss1',
    });
  });

  test('merge into an empty file; unchanged the second time', () => {
    const first = mergeAuthorizedKeys('', [uss1]);
    assert.equal(first.content, `${GUARD_LINE_USS1}\n`);
    assert.deepEqual(first.changed, ['authorized the key of uss1']);
    assert.deepEqual(mergeAuthorizedKeys(first.content, [uss1]), { content: first.content, changed: [] });
  });

  test('keeps foreign lines in place, replaces ours in place, removes stale ours', () => {
    const foreign = `ssh-ed25519 ${KEY3} admin@laptop`;
    const comment = '# keep me';
    const staleOurs = `command="/usr/local/libexec/esxi-zfs/receive-guard sp2/old",from="10.0.1.49" ssh-ed25519 ${KEY2} esxi-zfs:uss9`;
    const oldOurs = `command="/usr/local/libexec/esxi-zfs/receive-guard sp2/old",from="10.0.1.41" ssh-ed25519 ${KEY1} esxi-zfs:uss1`;
    const current = [comment, oldOurs, foreign, staleOurs, ''].join('\n');
    const merged = mergeAuthorizedKeys(current, [uss1]);
    assert.equal(merged.content, [comment, GUARD_LINE_USS1, foreign, ''].join('\n'));
    assert.deepEqual(merged.changed, ['updated the key of uss1', 'removed the key of uss9 (no longer a source)']);
  });

  test('a foreign line carrying a source key is removed (it would bypass the guard)', () => {
    const bypass = `ssh-ed25519 ${KEY1} zfsadm@uss1`;
    const merged = mergeAuthorizedKeys(`${bypass}\n`, [uss1]);
    assert.equal(merged.content, `${GUARD_LINE_USS1}\n`);
    assert.match(merged.changed[0]!, /without the receive guard/);
  });

  test('no sources: only our lines go', () => {
    const foreign = `ssh-ed25519 ${KEY3} admin@laptop`;
    assert.deepEqual(mergeAuthorizedKeys(`${foreign}\n${GUARD_LINE_USS1}\n`, []), { content: `${foreign}\n`, changed: ['removed the key of uss1 (no longer a source)'] });
    assert.deepEqual(mergeAuthorizedKeys('', []), { content: '', changed: [] });
  });
});

describe('known_hosts', () => {
  test('the managed line, and the [address]:port form', () => {
    assert.equal(knownHostsLine(uss2Target), `10.0.1.42,uss2 ssh-ed25519 ${KEY2} esxi-zfs:uss2`);
    assert.equal(knownHostsLine({ ...uss2Target, port: 2222 }), `[10.0.1.42]:2222,[uss2]:2222 ssh-ed25519 ${KEY2} esxi-zfs:uss2`);
    assert.equal(knownHostsLine({ ...uss2Target, port: 22 }), `10.0.1.42,uss2 ssh-ed25519 ${KEY2} esxi-zfs:uss2`);
  });

  test('keeps foreign lines, replaces ours, removes stale ours and foreign keys for our targets', () => {
    const other = `10.9.9.9 ssh-ed25519 ${KEY3}`;
    const salt = Buffer.from('0123456789abcdefghij');
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('10.0.1.42').digest('base64')} ssh-ed25519 ${KEY3}`;
    const oldOurs = `10.0.1.42,uss2 ssh-ed25519 ${KEY1} esxi-zfs:uss2`;
    const stale = `10.0.1.43,uss3 ssh-ed25519 ${KEY1} esxi-zfs:uss3`;
    const plainClash = `uss2 ssh-rsa ${KEY3}`;
    const current = [other, oldOurs, hashed, stale, plainClash, ''].join('\n');
    const merged = mergeKnownHosts(current, [uss2Target], hashHostName);
    assert.equal(merged.content, [other, `10.0.1.42,uss2 ssh-ed25519 ${KEY2} esxi-zfs:uss2`, ''].join('\n'));
    assert.deepEqual(merged.changed, [
      'updated the pinned host key of uss2',
      'removed a line not managed by esxi-zfs that listed a key for uss2 (10.0.1.42)',
      'removed the host key of uss3 (no longer a target)',
      'removed a line not managed by esxi-zfs that listed a key for uss2 (uss2)',
    ]);
    assert.deepEqual(mergeKnownHosts(merged.content, [uss2Target], hashHostName), { content: merged.content, changed: [] });
  });
});

describe('reading facts', () => {
  test('ls -ldn + content, absent, passwd, mode bits', () => {
    assert.deepEqual(parseFileFacts('absent\n'), { exists: false, content: '' });
    assert.deepEqual(parseFileFacts('-rw------- 1 1000 1000 12 Jan  1 00:00 /home/zfsadm/.ssh/authorized_keys\nline1\nline2\n'), {
      exists: true, mode: '-rw-------', uid: 1000, gid: 1000, content: 'line1\nline2\n',
    });
    assert.equal(modeBits('drwx------'), 0o700);
    assert.equal(modeBits('-r--r-----'), 0o440);
    assert.equal(modeBits('-rwxr-xr-x'), 0o755);
    assert.deepEqual(parsePasswd('zfsadm:x:1000:1000:esxi-zfs replication:/home/zfsadm:/bin/sh\n'), {
      user: 'zfsadm', uid: 1000, gid: 1000, home: '/home/zfsadm', shell: '/bin/sh',
    });
  });
});

describe('the workflow plan and the CLI input', () => {
  const host = (name: string, address: string): StorageHostRef => ({
    name, os: 'linux', address, hostKey: `ssh-ed25519 ${KEY2}`, credential: { user: 'root', privateKeyFile: '/k' }, storageAddress: address,
  });
  test('a ring: each host receives, authorizes its predecessor and pins its successor', () => {
    const [a, b, c] = [host('a', '10.0.0.1'), host('b', '10.0.0.2'), host('c', '10.0.0.3')];
    const plan = trustPlan({
      hosts: [a, b],
      edges: [
        { source: a, target: b, targetDataset: 'sp2/nas/vol0' },
        { source: a, target: b, targetDataset: 'sp2/nas/vol2' },
        { source: b, target: c, targetDataset: 'sp3/nas/vol1' },
      ],
    });
    assert.equal(plan.user, 'zfsadm');
    assert.deepEqual(plan.hosts.map((h) => h.name), ['a', 'b', 'c']);
    assert.deepEqual(Object.fromEntries(plan.receives), { a: [], b: ['sp2/nas/vol0', 'sp2/nas/vol2'], c: ['sp3/nas/vol1'] });
    assert.deepEqual(plan.sourcesOf.get('b')!.map((s) => [s.source.name, s.datasets]), [['a', ['sp2/nas/vol0', 'sp2/nas/vol2']]]);
    assert.deepEqual(plan.sourcesOf.get('a'), []);
    assert.deepEqual(plan.targetsOf.get('a')!.map((t) => t.name), ['b']);
    assert.deepEqual(plan.targetsOf.get('c'), []);
  });

  test('replicationTrustInput: one edge per replicated dataset of the inventory', () => {
    const yaml = `
apiVersion: esxi-zfs/v1
credentials:
  root: { user: root, privateKeyFile: /k }
replication: { user: zfsrep }
hosts:
  - name: vh1
    storageVm:
      name: uss1
      os: linux
      cpus: 2
      memoryGiB: 4
      nics: [{ portGroup: VM Network, address: 192.0.2.41/24, gateway: 192.0.2.1 }, { portGroup: eSAN, address: 10.0.1.41/24 }]
      ssh: { address: 192.0.2.41, credentials: root, hostKey: "ssh-ed25519 ${KEY1}" }
      pool: { name: sp1, data: [{ disk: c8t1d0 }] }
      datasets:
        - { name: sp1/nas/vol0, replicateTo: { vm: uss2, dataset: sp2/nas/vol0 } }
  - name: vh2
    storageVm:
      name: uss2
      os: linux
      cpus: 2
      memoryGiB: 4
      nics: [{ portGroup: VM Network, address: 192.0.2.42/24, gateway: 192.0.2.1 }, { portGroup: eSAN, address: 10.0.1.42/24 }]
      ssh: { address: 192.0.2.42, credentials: root, hostKey: "ssh-ed25519 ${KEY2}" }
      pool: { name: sp2, data: [{ disk: c8t1d0 }] }
`;
    const loaded = parseInventory(yaml);
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
    const input = replicationTrustInput(loaded.inventory);
    assert.equal(input.user, 'zfsrep');
    assert.deepEqual(input.hosts.map((h) => h.name), ['uss1', 'uss2']);
    assert.deepEqual(input.edges.map((e) => [e.source.name, e.source.storageAddress, e.target.name, e.target.storageAddress, e.targetDataset]), [
      ['uss1', '10.0.1.41', 'uss2', '10.0.1.42', 'sp2/nas/vol0'],
    ]);
    assert.doesNotMatch(JSON.stringify(input), /PRIVATE KEY/);
  });
});
