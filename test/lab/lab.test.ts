/**
 * The storage-host lab, for real: namespaces, a bridge, sshd and zfs-fuse per host, pools on the
 * lab's disks. Runs as root. Uses its own lab dir (.data/lab-test), whose bridge, subnet and
 * namespace prefix are derived from the dir, so it runs beside a developer's lab in .data/lab.
 *
 *   node --import tsx --test test/lab/lab.test.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadInventoryFile } from '../../inventory/load';
import { reboot as rebootCli } from '../../lab/cli';
import { run } from '../../lab/exec';
import { nfsUrl } from '../../lab/nfs/client';
import { nfsPids } from '../../lab/nfs/server';
import {
  inHypervisor, labDown, labExec, labReboot, labStatus, labUp, outsiderAddressOf, storageAddressOf, storageSubnetOf,
  vmkernelAddressOf, type LabHostState, type LabState,
} from '../../lab/lab';
import { isAlive, mountTable, netnsNames, processNs } from '../../lab/sys';

const DIR = path.resolve(__dirname, '..', '..', '.data', 'lab-test');
const HOSTS = 3;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ezlab-test-'));
let lab: LabState;
let down = false;

/** known_hosts holding exactly one line: this address with this key. */
function knownHosts(host: LabHostState, key = host.hostKey): string {
  const file = path.join(tmp, `known_hosts-${host.name}-${key.slice(-8).replace(/[^A-Za-z0-9]/g, '_')}`);
  fs.writeFileSync(file, `${host.address} ${key}\n`);
  return file;
}

function ssh(host: LabHostState, command: string, opts: { user?: string; knownHostsFile?: string } = {}) {
  return run('ssh', [
    '-i', lab.privateKeyFile,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${opts.knownHostsFile ?? knownHosts(host)}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'ConnectTimeout=5',
    '-o', 'LogLevel=ERROR',
    `${opts.user ?? 'root'}@${host.address}`,
    command,
  ], { timeoutMs: 60_000 });
}

async function exec(host: LabHostState, ...argv: string[]) {
  return labExec(host, argv);
}

async function ok(host: LabHostState, ...argv: string[]): Promise<string> {
  const r = await labExec(host, argv);
  assert.equal(r.code, 0, `${host.name}: ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * `zpool destroy`, again while zfs-fuse calls a pool it mounted a moment ago busy (seen in CI: its
 * fresh mount is not released at once); any other failure, or a pool still busy after 5 s, fails.
 */
async function destroyPool(host: LabHostState, pool: string): Promise<void> {
  for (let i = 0; ; i++) {
    const r = await labExec(host, ['zpool', 'destroy', pool]);
    if (r.code === 0) return;
    assert.ok(/pool is busy/.test(r.stderr) && i < 25, `${host.name}: zpool destroy ${pool}: ${r.stderr}`);
    await sleep(200);
  }
}

describe('storage-host lab', { timeout: 300_000 }, () => {
  before(async () => {
    const started = Date.now();
    lab = await labUp({ hosts: HOSTS, dir: DIR });
    process.stdout.write(`# labUp (${HOSTS} hosts): ${Date.now() - started} ms\n`);
  });

  after(async () => {
    if (!down) await labDown({ dir: DIR });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('labUp builds 3 hosts, each answering SSH with its own pinned host key only', async () => {
    assert.deepEqual(lab.hosts.map((h) => h.name), ['test-san-01', 'test-san-02', 'test-san-03']);
    assert.equal(new Set(lab.hosts.map((h) => h.address)).size, HOSTS);
    assert.equal(new Set(lab.hosts.map((h) => h.hostKey)).size, HOSTS);
    for (const h of lab.hosts) {
      assert.match(h.hostKey, /^ssh-ed25519 [A-Za-z0-9+/]+={0,2}$/);
      assert.match(h.fingerprint, /^SHA256:[A-Za-z0-9+/]+$/);
      const printed = await run('ssh-keygen', ['-l', '-f', knownHosts(h)]);
      assert.ok(printed.stdout.includes(h.fingerprint), `fingerprint of ${h.name}: ${printed.stdout}`);

      const r = await ssh(h, 'hostname; cat /etc/hostname; getent hosts "$(hostname)"; id -un');
      assert.equal(r.code, 0, `${h.name}: ${r.stderr}`);
      const [hostname, etcHostname, hostsLine, user] = r.stdout.trim().split('\n');
      assert.equal(hostname, h.name);
      assert.equal(etcHostname, h.name);
      assert.match(hostsLine ?? '', new RegExp(`^${h.address.replace(/\./g, '\\.')}\\s+${h.name}$`));
      assert.equal(user, 'root');

      // The pinning is real: another host's key for this address is refused before any login.
      const other = lab.hosts.find((o) => o !== h)!;
      const wrong = await ssh(h, 'true', { knownHostsFile: knownHosts(h, other.hostKey) });
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    }
    // Hosts reach each other across the bridge (the replication data path) and see the same keys.
    const [a, b, c] = lab.hosts as [LabHostState, LabHostState, LabHostState];
    for (const [from, to] of [[a, b], [b, c], [c, a]] as const) {
      const r = await exec(from, 'ssh-keyscan', '-T', '5', '-t', 'ed25519', to.address);
      assert.equal(r.stdout.trim(), `${to.address} ${to.hostKey}`, `${from.name} -> ${to.name}: ${r.stderr}`);
    }
  });

  test('the inventory describes the lab and passes the project loader', async () => {
    const loaded = loadInventoryFile(lab.inventoryFile);
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems, null, 1));
    const vms = loaded.inventory.hosts.map((h) => h.storageVm!);
    assert.deepEqual(loaded.inventory.hosts.map((h) => h.name), ['vh1', 'vh2', 'vh3']);
    assert.deepEqual(vms.map((v) => v.name), lab.hosts.map((h) => h.name));
    assert.deepEqual(vms.map((v) => v.ssh.hostKey), lab.hosts.map((h) => h.hostKey));
    assert.deepEqual(vms.map((v) => v.pool.name), ['sp1', 'sp2', 'sp3']);
    assert.deepEqual(vms.map((v) => v.datasets[0]!.replicateTo?.vm), ['test-san-02', 'test-san-03', 'test-san-01']);
    assert.equal(loaded.inventory.credentials['lab-root']?.privateKeyFile, lab.privateKeyFile);
  });

  test('each host sees its own blank disks and only its own pools', async () => {
    for (const h of lab.hosts) {
      for (const d of h.disks) {
        const size = d.kind === 'block' ? await ok(h, 'blockdev', '--getsize64', d.path) : await ok(h, 'stat', '-c', '%s', d.path);
        assert.equal(Number(size.trim()), d.sizeBytes, `${h.name} ${d.path}`);
      }
      assert.deepEqual(h.disks.map((d) => [d.path, d.role]), [
        ['/srv/disks/c8t1d0', 'data'], ['/srv/disks/c11t0d0', 'log'], ['/srv/disks/c9t0d0', 'cache'],
      ]);
      assert.equal((await ok(h, 'zpool', 'list', '-H')).trim(), '', `${h.name} starts without pools`);
    }
    const [a, b, c] = lab.hosts as [LabHostState, LabHostState, LabHostState];
    const vdevs = (h: LabHostState) => {
      const disk = (role: string) => h.disks.find((d) => d.role === role)!.path;
      return `${disk('data')} log ${disk('log')} cache ${disk('cache')}`;
    };
    // Through sshd: a session runs in the namespaces sshd was started in, so it reaches its host's ZFS.
    const created = await ssh(a, `zpool create labtest ${vdevs(a)} && zpool status labtest && zfs list -H -o name,mountpoint labtest && ls -d /labtest`);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /logs\s+\/srv\/disks\/c11t0d0\s+ONLINE/);
    assert.match(created.stdout, /cache\s+\/srv\/disks\/c9t0d0\s+ONLINE/);
    assert.ok(!fs.existsSync('/labtest'), "the pool's mountpoint exists only inside its host, not on the machine");
    for (const other of [b, c]) {
      const list = await ssh(other, 'zpool list -H -o name; zpool import -d /srv/disks 2>&1; true');
      assert.equal(list.code, 0, list.stderr);
      assert.doesNotMatch(list.stdout, /labtest/, `${other.name} must not see ${a.name}'s pool`);
    }
    // The same pool name on another host is another pool.
    const twin = await ssh(b, `zpool create labtest ${vdevs(b)} && zfs get -H -o value guid labtest`);
    assert.equal(twin.code, 0, twin.stderr);
    const guidA = (await ok(a, 'zfs', 'get', '-H', '-o', 'value', 'guid', 'labtest')).trim();
    assert.notEqual(twin.stdout.trim(), guidA);
    for (const h of [a, b]) {
      await destroyPool(h, 'labtest');
      assert.equal((await ok(h, 'zpool', 'list', '-H')).trim(), '');
    }
  });

  test('labUp again with the same hosts is a no-op', async () => {
    const started = Date.now();
    const again = await labUp({ hosts: HOSTS, dir: DIR });
    const ms = Date.now() - started;
    process.stdout.write(`# labUp on a healthy lab: ${ms} ms\n`);
    assert.deepEqual(again.hosts.map((h) => h.pids), lab.hosts.map((h) => h.pids));
    assert.deepEqual(again.hosts.map((h) => h.hostKey), lab.hosts.map((h) => h.hostKey));
    assert.equal(again.createdAt, lab.createdAt);
  });

  test('users, /etc, /root, /home and /tmp are private to each host', async () => {
    const [a, b, c] = lab.hosts as [LabHostState, LabHostState, LabHostState];
    const onMachine = await run('getent', ['passwd', 'zfsadm']);
    assert.equal(onMachine.code, 2, 'precondition: the machine itself has no zfsadm user');
    await ok(a, 'useradd', '-m', '-s', '/bin/bash', 'zfsadm');
    assert.match(await ok(a, 'getent', 'passwd', 'zfsadm'), /^zfsadm:x:\d+:\d+::\/home\/zfsadm:\/bin\/bash$/m);
    await ok(a, 'test', '-d', '/home/zfsadm');
    for (const other of [b, c]) {
      assert.equal((await exec(other, 'getent', 'passwd', 'zfsadm')).code, 2, `${other.name} must not have zfsadm`);
      assert.notEqual((await exec(other, 'test', '-e', '/home/zfsadm')).code, 0);
    }
    assert.equal((await run('getent', ['passwd', 'zfsadm'])).code, 2, 'the machine must not have zfsadm');
    assert.ok(!fs.existsSync('/home/zfsadm'));

    await ok(a, 'touch', '/tmp/ezlab-probe', '/root/ezlab-probe', '/etc/ezlab-probe');
    for (const file of ['/tmp/ezlab-probe', '/root/ezlab-probe', '/etc/ezlab-probe']) {
      assert.notEqual((await exec(b, 'test', '-e', file)).code, 0, `${file} leaked to ${b.name}`);
      assert.ok(!fs.existsSync(file), `${file} leaked to the machine`);
    }
    // The lab dir (its client key, other hosts' disks) is hidden from the hosts.
    assert.notEqual((await exec(a, 'test', '-e', lab.privateKeyFile)).code, 0);
  });

  test('sshd runs with UsePAM no: a new user logs in by key only once its password field is unlocked; zfs-fuse answers root only', async () => {
    const a = lab.hosts[0]!;
    await ok(a, 'install', '-d', '-m', '700', '-o', 'zfsadm', '-g', 'zfsadm', '/home/zfsadm/.ssh');
    const pub = fs.readFileSync(`${lab.privateKeyFile}.pub`, 'utf8');
    // labExec's stdin is a socket (libuv), which /dev/stdin cannot reopen: feed programs that read fd 0.
    const wrote = await labExec(a, ['tee', '/home/zfsadm/.ssh/authorized_keys'], { input: pub });
    assert.equal(wrote.code, 0, wrote.stderr);
    await ok(a, 'chown', 'zfsadm:zfsadm', '/home/zfsadm/.ssh/authorized_keys');
    await ok(a, 'chmod', '600', '/home/zfsadm/.ssh/authorized_keys');
    const locked = await ssh(a, 'id -un', { user: 'zfsadm' });
    assert.notEqual(locked.code, 0, 'useradd leaves "!" in /etc/shadow, which sshd without PAM treats as locked');
    await ok(a, 'usermod', '-p', '*', 'zfsadm');
    const unlocked = await ssh(a, 'id -un; command -v zpool || echo "no zpool on PATH"; /usr/sbin/zpool list -H 2>&1; echo "exit $?"', { user: 'zfsadm' });
    assert.equal(unlocked.code, 0, unlocked.stderr);
    const [user, zpool, ...zfsAsUser] = unlocked.stdout.trim().split('\n');
    assert.equal(user, 'zfsadm');
    assert.equal(zpool, 'no zpool on PATH', "a non-root session's PATH lacks /usr/sbin: use absolute paths");
    // zfs-fuse's socket /run/zfs/zfs_socket is root's (srwxr-xr-x): a non-root user cannot use ZFS at all.
    assert.deepEqual(zfsAsUser, ['connect: Permission denied', 'internal error: failed to initialize ZFS library', 'exit 1']);
  });

  test('labStatus reports every host alive and reachable', async () => {
    const status = await labStatus({ dir: DIR });
    assert.equal(status.state?.createdAt, lab.createdAt);
    assert.deepEqual(status.hosts, lab.hosts.map((h) => ({ name: h.name, sshdAlive: true, zfsAlive: true, reachable: true })));
  });

  test('labUp repairs a lab whose daemons died: same host, keys and namespaces, pools kept, the NFS server serving them again', async () => {
    const [a, b] = lab.hosts as [LabHostState, LabHostState];
    await ok(a, 'zpool', 'create', 'keep', a.disks.find((d) => d.role === 'data')!.path);
    // A snapshot commits the open txg: SIGKILLed zfs-fuse loses what it had not written out.
    await ok(a, 'sh', '-c', 'echo survivor > /keep/file && zfs snapshot keep@committed');
    // Shared to vh1 over the storage network (eth1 given its address here, taken away at the end).
    const vh1 = lab.hypervisors[0]!;
    await ok(a, 'ip', 'addr', 'add', `${a.storageAddress}/24`, 'dev', 'eth1');
    await ok(a, 'zfs', 'set', `sharenfs=${vh1.address}:ro`, 'keep');
    const readOverNfs = () => inHypervisor(lab, vh1.name, ['nfs-cat', nfsUrl(a.storageAddress, '/keep/file', 3)], { timeoutMs: 30_000 });
    assert.equal((await readOverNfs()).stdout, 'survivor\n');
    process.kill(a.pids.zfsFuse, 'SIGKILL');
    process.kill(nfsPids(a)!.ganesha, 'SIGKILL');
    process.kill(b.pids.sshd, 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      const hosts = (await labStatus({ dir: DIR })).hosts;
      if (!hosts[0]?.zfsAlive && !hosts[1]?.sshdAlive) break;
      await sleep(20);
    }
    const dead = (await labStatus({ dir: DIR })).hosts;
    assert.deepEqual([dead[0]?.zfsAlive, dead[1]?.sshdAlive], [false, false]);

    const repaired = await labUp({ hosts: HOSTS, dir: DIR });
    assert.equal(repaired.createdAt, lab.createdAt, 'repaired, not rebuilt');
    assert.notEqual(repaired.hosts[0]!.pids.zfsFuse, a.pids.zfsFuse);
    assert.notEqual(repaired.hosts[1]!.pids.sshd, b.pids.sshd);
    assert.deepEqual(repaired.hosts.map((h) => [h.hostKey, h.ns]), lab.hosts.map((h) => [h.hostKey, h.ns]));
    // Only the dead daemons were restarted.
    assert.equal(repaired.hosts[0]!.pids.sshd, a.pids.sshd);
    assert.equal(repaired.hosts[1]!.pids.zfsFuse, b.pids.zfsFuse);
    assert.deepEqual(lab.hosts.slice(2).map((h) => h.pids), repaired.hosts.slice(2).map((h) => h.pids));
    const onDisk = JSON.parse(fs.readFileSync(path.join(DIR, 'state.json'), 'utf8')) as LabState;
    assert.deepEqual(onDisk.hosts.map((h) => h.pids), repaired.hosts.map((h) => h.pids), 'state.json has the new pids');
    lab = repaired;
    const status = await labStatus({ dir: DIR });
    assert.ok(status.hosts.every((h) => h.sshdAlive && h.zfsAlive && h.reachable), JSON.stringify(status.hosts));
    const r = await ssh(repaired.hosts[0]!, 'zpool list -H -o name,health keep && cat /keep/file');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'keep\tONLINE\nsurvivor\n');
    const overNfs = await readOverNfs();
    assert.equal(overNfs.stdout, 'survivor\n', `the NFS server serves the new zfs-fuse's mount: ${overNfs.stderr}`);
    await ok(a, 'zfs', 'set', 'sharenfs=off', 'keep');
    await ok(a, 'ip', 'addr', 'del', `${a.storageAddress}/24`, 'dev', 'eth1');
    assert.equal((await ssh(repaired.hosts[1]!, 'hostname')).stdout.trim(), b.name);
    await destroyPool(repaired.hosts[0]!, 'keep');
  });

  test('two networks: eth0 configured by the host\'s own ifupdown, eth1 on the storage bridge without an address, the hypervisors on it', async () => {
    const I = lab.index;
    assert.equal(lab.storageBridge, `ezsan${I}`);
    assert.equal(lab.storageSubnet, storageSubnetOf(I));
    assert.equal(lab.storageSubnet, `10.214.${I}.0/24`);
    assert.deepEqual(lab.hypervisors.map((c) => [c.name, c.netns, c.address]), lab.hosts.map((_, j) => [`vh${j + 1}`, `ezlab${I}-vh${j + 1}`, `10.214.${I}.${11 + j}`]));
    assert.deepEqual(lab.hypervisors.map((c) => c.address), lab.hosts.map((_, j) => vmkernelAddressOf(I, j)));
    assert.deepEqual([lab.outsider.name, lab.outsider.netns, lab.outsider.address], ['outsider', `ezlab${I}-outsider`, `10.214.${I}.250`]);
    assert.equal(outsiderAddressOf(I), lab.outsider.address);
    const masterOf = async (link: string) => (JSON.parse((await run('ip', ['-j', 'link', 'show', 'dev', link])).stdout) as { master?: string }[])[0]?.master;
    for (const [j, h] of lab.hosts.entries()) {
      assert.equal(h.storageAddress, storageAddressOf(I, j));
      assert.equal(h.storageAddress, `10.214.${I}.${41 + j}`);
      assert.equal(await masterOf(h.storageVeth), lab.storageBridge);
      assert.equal(await masterOf(h.veth), lab.bridge);
      const eth1 = JSON.parse(await ok(h, 'ip', '-j', 'addr', 'show', 'dev', 'eth1')) as { operstate: string; addr_info: { family: string; scope: string }[] }[];
      // Up, and without an address but the IPv6 link-local one every up link gets.
      const addresses = eth1[0]?.addr_info.filter((a) => a.scope !== 'link');
      assert.deepEqual([eth1.length, eth1[0]?.operstate, addresses], [1, 'UP', []], `${h.name}: eth1 is up without an address`);
      assert.equal(await ok(h, 'cat', '/etc/network/interfaces'), [
        `# The network interfaces of ${h.name} (written by lab/host.ts at install; interfaces(5)).`,
        'source /etc/network/interfaces.d/*', '',
        '# The loopback network interface', 'auto lo', 'iface lo inet loopback', '',
        '# The management network interface', 'auto eth0', 'iface eth0 inet static', `\taddress ${h.address}/24`, '',
      ].join('\n'));
      assert.equal(await ok(h, 'ls', '-A', '/etc/network/interfaces.d'), '');
      await ok(h, 'test', '-x', '/etc/network/if-up.d', '-a', '-d', '/etc/network/if-pre-up.d', '-a', '-d', '/etc/network/if-down.d', '-a', '-d', '/etc/network/if-post-down.d');
      // ifupdown configured eth0 (so its own ifup/ifdown manage it), in the host's private /run.
      assert.deepEqual((await ok(h, 'ifquery', '--state')).trim().split('\n').sort(), ['eth0=eth0', 'lo=lo']);
    }
    for (const c of [...lab.hypervisors, lab.outsider]) {
      assert.equal(await masterOf(c.veth), lab.storageBridge);
      const r = await inHypervisor(lab, c.name, ['ip', '-4', '-o', 'addr', 'show']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(1, 4).join(' ')), ['lo inet 127.0.0.1/8', `vmk1 inet ${c.address}/24`]);
    }
    // The machine routes the storage network nowhere (nothing leaves by its default route).
    const route = await run('ip', ['route', 'get', lab.hosts[0]!.storageAddress]);
    assert.notEqual(route.code, 0);
    assert.match(route.stderr, /No route to host/);
    assert.match((await run('ip', ['route', 'show', lab.storageSubnet])).stdout, new RegExp(`^unreachable ${lab.storageSubnet.replace(/[./]/g, '\\$&')}`));
    await assert.rejects(labUp({ names: ['test-san-01', 'vh2'], dir: DIR }), /'vh2' is taken by the lab's hypervisors/);
  });

  test('a hypervisor reaches a host\'s eth1 once it has an address; a reboot drops a live-only address, keeps one written to interfaces.d, and brings pools, datasets and sshd back', async () => {
    const [a, b] = lab.hosts as [LabHostState, LabHostState];
    const keyscan = (vh: string, address: string, seconds = 5) => inHypervisor(lab, vh, ['ssh-keyscan', '-T', String(seconds), '-t', 'ed25519', address]);
    assert.equal((await keyscan('vh1', a.storageAddress, 1)).stdout, '', 'nothing answers there before eth1 has its address');
    await ok(a, 'ip', 'addr', 'add', `${a.storageAddress}/24`, 'dev', 'eth1');
    assert.equal((await keyscan('vh1', a.storageAddress)).stdout.trim(), `${a.storageAddress} ${a.hostKey}`, 'vh1 reaches a over the storage network');
    // b: only written down, as configureStorage does, with the host name on its storage address.
    const eth1 = `auto eth1\niface eth1 inet static\n\taddress ${b.storageAddress}/24\n`;
    assert.equal((await labExec(b, ['tee', '/etc/network/interfaces.d/eth1'], { input: eth1 })).code, 0);
    await ok(b, 'sed', '-i', `s/^${b.address.replace(/\./g, '\\.')}\\t${b.name}$/${b.storageAddress}\\t${b.name}/`, '/etc/hosts');
    assert.match(await ok(b, 'getent', 'hosts', b.name), new RegExp(`^${b.storageAddress.replace(/\./g, '\\.')}\\s`));
    await ok(b, 'ip', 'route', 'add', '10.99.0.0/16', 'via', lab.gateway);
    await ok(b, 'zpool', 'create', 'sp2', b.disks[0]!.path, 'log', b.disks[1]!.path, 'cache', b.disks[2]!.path);
    await ok(b, 'zfs', 'create', '-p', '-o', 'mountpoint=/export/vol1', 'sp2/nas/vol1');
    const sharenfs = `${lab.hypervisors[1]!.address}:rw`; // zfs-fuse's HOST:OPTIONS: exported again by the reboot's zfs share -a
    await ok(b, 'zfs', 'set', `sharenfs=${sharenfs}`, 'sp2/nas/vol1');
    await ok(b, 'sh', '-c', 'echo kept > /export/vol1/file && zfs snapshot sp2/nas/vol1@before');

    const rebootedA = await labReboot({ dir: DIR, host: a.name });
    process.stdout.write(`# labReboot (no pool): ${rebootedA.ms} ms\n`);
    const r = await labReboot({ dir: DIR, host: b.name });
    process.stdout.write(`# labReboot (a pool, a dataset): ${r.ms} ms\n`);
    assert.deepEqual([rebootedA.answers, rebootedA.notes], [true, []]);
    assert.deepEqual(rebootedA.addresses, ['lo 127.0.0.1/8', `eth0 ${a.address}/24`], 'the live-only address is gone');
    assert.deepEqual([r.answers, r.notes], [true, []]);
    assert.deepEqual(r.addresses, ['lo 127.0.0.1/8', `eth0 ${b.address}/24`, `eth1 ${b.storageAddress}/24`]);
    lab = r.state;
    const [a2, b2] = lab.hosts as [LabHostState, LabHostState];
    assert.equal(rebootedA.state.hosts[0]!.pids.sshd, a2.pids.sshd, 'the second reboot kept the first one\'s pids');
    for (const [before, after] of [[a, a2], [b, b2]] as const) {
      assert.notEqual(after.pids.sshd, before.pids.sshd);
      assert.notEqual(after.pids.zfsFuse, before.pids.zfsFuse);
      assert.ok(!isAlive(before.pids.sshd) && !isAlive(before.pids.zfsFuse));
    }
    const onDisk = JSON.parse(fs.readFileSync(path.join(DIR, 'state.json'), 'utf8')) as LabState;
    assert.deepEqual(onDisk.hosts.map((h) => h.pids), lab.hosts.map((h) => h.pids));
    assert.equal((await ok(b2, 'ip', 'route', 'show', '10.99.0.0/16')).trim(), '', 'a live-only route is gone');
    assert.deepEqual((await ok(b2, 'ifquery', '--state')).trim().split('\n').sort(), ['eth0=eth0', 'eth1=eth1', 'lo=lo']);
    assert.equal((await keyscan('vh1', a.storageAddress, 1)).stdout, '');
    assert.equal((await keyscan('vh2', b.storageAddress)).stdout.trim(), `${b.storageAddress} ${b.hostKey}`);
    // Through sshd on the management address: the pool imported from zpool.cache (the host id did
    // not follow /etc/hosts), its datasets mounted, sharenfs still stored.
    const s = await ssh(b2, 'zpool list -H -o name,health; zfs get -H -o name,value mounted,sharenfs sp2/nas/vol1; cat /export/vol1/file; hostname');
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, `sp2\tONLINE\nsp2/nas/vol1\tyes\nsp2/nas/vol1\t${sharenfs}\nkept\n${b.name}\n`);
    await destroyPool(b2, 'sp2');
  });

  test('a reboot is safe with its daemons already dead, and reports a host its configuration locks out', async () => {
    const c = lab.hosts[2]!;
    process.kill(c.pids.sshd, 'SIGKILL');
    process.kill(c.pids.zfsFuse, 'SIGKILL');
    const revived = await labReboot({ dir: DIR, host: c.name });
    assert.equal(revived.answers, true, revived.notes.join('\n'));
    lab = revived.state;
    const c2 = lab.hosts[2]!;
    assert.ok(isAlive(c2.pids.sshd) && isAlive(c2.pids.zfsFuse));

    await ok(c2, 'sed', '-i', `s/${c.address.replace(/\./g, '\\.')}\\/24/10.213.${lab.index}.199\\/24/`, '/etc/network/interfaces');
    const printed: string[] = [];
    assert.equal(await rebootCli({ dir: DIR, host: c.name }, (line) => printed.push(line)), 1);
    assert.match(printed[0]!, new RegExp(`^lab reboot: ${c.name} rebooted in [\\d.]+ s but does NOT answer on ${c.address.replace(/\./g, '\\.')}$`));
    assert.equal(printed[1], `  addresses: lo 127.0.0.1/8, eth0 10.213.${lab.index}.199/24`);
    assert.match(printed[2]!, /does not answer on .*: its persistent network configuration no longer gives it that address/);
    assert.equal((await labStatus({ dir: DIR })).hosts[2]!.reachable, false);

    await ok(c2, 'sed', '-i', `s/10\\.213\\.${lab.index}\\.199\\/24/${c.address}\\/24/`, '/etc/network/interfaces');
    const fixed = await labReboot({ dir: DIR, host: c.name });
    assert.deepEqual([fixed.answers, fixed.notes], [true, []]);
    lab = fixed.state;
    assert.equal((await ssh(lab.hosts[2]!, 'hostname')).stdout.trim(), c.name);
  });

  test('labUp --data-disks 4 --spare-disk rebuilds a standing lab with 4 data disks a raidz takes without -f, and a spare', async () => {
    const rebuilt = await labUp({ hosts: HOSTS, dir: DIR, dataDisks: 4, spareDisk: true });
    assert.notEqual(rebuilt.createdAt, lab.createdAt, 'other disks: rebuilt');
    lab = rebuilt;
    const MiB = 2 ** 20;
    for (const h of lab.hosts) {
      assert.deepEqual(h.disks.map((d) => [d.path, d.role, d.sizeBytes]), [
        ['/srv/disks/c8t1d0', 'data', 2048 * MiB], ['/srv/disks/c8t2d0', 'data', 2050 * MiB],
        ['/srv/disks/c8t3d0', 'data', 2052 * MiB], ['/srv/disks/c8t4d0', 'data', 2054 * MiB],
        ['/srv/disks/c11t0d0', 'log', 256 * MiB], ['/srv/disks/c9t0d0', 'cache', 512 * MiB],
        ['/srv/disks/c10t0d0', 'spare', 2056 * MiB],
      ]);
      for (const d of h.disks.filter((x) => x.kind === 'file')) assert.equal(Number((await ok(h, 'stat', '-c', '%s', d.path)).trim()), d.sizeBytes);
    }
    const again = await labUp({ hosts: HOSTS, dir: DIR, dataDisks: 4, spareDisk: true });
    assert.equal(again.createdAt, lab.createdAt, 'the same disks: kept');
    const inventory = loadInventoryFile(lab.inventoryFile);
    assert.ok(inventory.ok);
    assert.equal(inventory.inventory.hosts[0]!.storageVm!.pool.data.length, 4);
    const h = lab.hosts[0]!;
    const data = h.disks.filter((d) => d.role === 'data').map((d) => d.path);
    await ok(h, 'zpool', 'create', 'sp1', 'raidz', ...data, 'spare', h.disks.find((d) => d.role === 'spare')!.path);
    assert.match(await ok(h, 'zpool', 'status', 'sp1'), /raidz1(-0)?\s+ONLINE[\s\S]*spares\s+\/srv\/disks\/c10t0d0\s+AVAIL/);
    await destroyPool(h, 'sp1');
    await ok(h, 'zpool', 'create', 'sp1', 'mirror', data[0]!, data[3]!);
    await destroyPool(h, 'sp1');
  });

  test('labUp rebuilds a lab that is really broken (a namespace gone)', async () => {
    const victim = lab.hosts[1]!;
    await run('ip', ['netns', 'delete', victim.netns]);
    const started = Date.now();
    const rebuilt = await labUp({ hosts: HOSTS, dir: DIR });
    process.stdout.write(`# labUp over a broken lab (clean up, then build): ${Date.now() - started} ms\n`);
    assert.notEqual(rebuilt.createdAt, lab.createdAt);
    for (const [i, h] of rebuilt.hosts.entries()) {
      assert.notEqual(h.pids.sshd, lab.hosts[i]!.pids.sshd);
      assert.notEqual(h.pids.zfsFuse, lab.hosts[i]!.pids.zfsFuse);
      // The old daemons are gone, not left running beside the new ones.
      assert.notEqual(processNs(lab.hosts[i]!.pids.zfsFuse, 'mnt'), lab.hosts[i]!.ns.mnt);
    }
    lab = rebuilt;
    const status = await labStatus({ dir: DIR });
    assert.ok(status.hosts.every((h) => h.sshdAlive && h.zfsAlive && h.reachable), JSON.stringify(status.hosts));
    const r = await ssh(rebuilt.hosts[1]!, 'zpool list -H; getent passwd zfsadm || echo fresh');
    assert.equal(r.stdout.trim(), 'fresh');
  });

  test('labDown leaves no process, namespace, mount, link or loop device behind', async () => {
    const before = lab;
    const started = Date.now();
    await labDown({ dir: DIR });
    down = true;
    process.stdout.write(`# labDown (${HOSTS} hosts): ${Date.now() - started} ms\n`);

    for (const h of before.hosts) {
      for (const pid of [h.pids.sshd, h.pids.zfsFuse]) {
        // Gone, or (after pid reuse) some other process outside the host's namespace.
        for (let i = 0; i < 100 && fs.existsSync(`/proc/${pid}`) && processNs(pid, 'mnt') === h.ns.mnt; i++) await sleep(20);
        assert.ok(!fs.existsSync(`/proc/${pid}`) || processNs(pid, 'mnt') !== h.ns.mnt, `${h.name} pid ${pid} still running`);
      }
    }
    const anyLeft = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number)
      .filter((pid) => before.hosts.some((h) => processNs(pid, 'mnt') === h.ns.mnt || processNs(pid, 'net') === h.ns.net));
    assert.deepEqual(anyLeft, [], 'processes left in lab namespaces');

    assert.deepEqual(netnsNames().filter((n) => n.startsWith(before.netnsPrefix)), []);
    const ipList = await run('ip', ['netns', 'list']);
    assert.doesNotMatch(ipList.stdout, new RegExp(before.netnsPrefix));

    assert.deepEqual(mountTable().filter((m) => m.mountPoint.startsWith(DIR)).map((m) => m.mountPoint), []);
    assert.doesNotMatch(fs.readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(DIR.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));

    for (const c of [...before.hypervisors, before.outsider]) assert.ok(!netnsNames().includes(c.netns), `${c.netns} still exists`);
    assert.doesNotMatch((await run('ip', ['route', 'show', 'table', 'all'])).stdout, new RegExp(before.storageSubnet.replace(/[./]/g, '\\$&')));
    const storageLinks = [before.storageBridge, ...before.hosts.map((h) => h.storageVeth), ...[...before.hypervisors, before.outsider].map((c) => c.veth)];
    for (const link of [before.bridge, ...before.hosts.map((h) => h.veth), ...storageLinks]) {
      assert.notEqual((await run('ip', ['link', 'show', 'dev', link])).code, 0, `link ${link} still exists`);
    }
    const loops = await run('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE']);
    assert.doesNotMatch(loops.stdout, new RegExp(DIR.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    assert.ok(!fs.existsSync(DIR), `${DIR} still exists`);
    assert.equal((await labStatus({ dir: DIR })).state, null);
  });
});
