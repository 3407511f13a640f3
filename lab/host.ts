/**
 * Building one lab host: its folders and /etc, its disks, its network namespace on the bridge,
 * its persistent private mount and UTS namespaces with its own root, and its daemons.
 *
 * Inside a host's mount namespace the root is a small tmpfs (pivot_root) holding recursive binds of
 * the machine's top-level directories (/usr, /var, /work, /proc, /dev, ...) and per-host folders for
 * /etc, /home, /root, /tmp, /run, /srv, /var/lib/zfs, /var/log and /var/mail. So a directory created
 * at the top of a host (a pool's default mountpoint /sp1, /export/...) exists only in that host and
 * vanishes with it; /run/zfs, /run/lock/zfs and /run/sshd are private because /run is.
 *
 * Its network is configured the way an installed VM's is: by its own ifupdown from its own
 * /etc/network/interfaces (eth0 static with the management address), so that what the product
 * writes there is what a reboot brings back (lab/reboot.ts).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemons, waitForSshd, waitForZfs } from './daemons';
import { makeDisks, type DiskLayout } from './disks';
import { debug, HOST_ENV, must, run } from './exec';
import {
  addHostNetwork, addressOf, netnsPrefix, PREFIX_LENGTH, startNetwork, storageAddressOf, storageVethName, vethName,
} from './network';
import { makeNfsFolders, startNfs, waitForNfs } from './nfs/server';
import type { LabHostState } from './state';
import { isUnder, mountsInNamespace, mountTable, nsFileInode, unmountInNamespace } from './sys';

export interface HostPlan {
  dir: string;
  index: number;
  name: string;
  j: number;
  clientKey: string;
  disks: DiskLayout;
}

/** A path in the host's state dir (hosts/NAME/...). */
type At = (...parts: string[]) => string;

/** Directories of the host's root that are the host's own (bound from its state dir). */
const PRIVATE_TOP = ['etc', 'home', 'root', 'tmp', 'run', 'srv'];
const PRIVATE_BINDS: { from: string; to: string; ifExists?: boolean }[] = [
  { from: 'etc', to: 'etc' },
  { from: 'home', to: 'home' },
  { from: 'root', to: 'root' },
  { from: 'tmp', to: 'tmp' },
  { from: 'run', to: 'run' },
  { from: 'srv', to: 'srv' },
  { from: 'var-lib-zfs', to: 'var/lib/zfs' },
  { from: 'var-log', to: 'var/log', ifExists: true },
  { from: 'var-mail', to: 'var/mail', ifExists: true },
  // NFS (lab/nfs/server.ts): the lab's exportfs, and the export table ZFS reads.
  { from: 'usr-local-sbin', to: 'usr/local/sbin' },
  { from: 'var-lib-nfs', to: 'var/lib/nfs' },
];

export async function buildHost(plan: HostPlan): Promise<LabHostState> {
  const { dir, index, name, j, clientKey, disks: layout } = plan;
  const root = path.join(dir, 'hosts', name);
  const address = addressOf(index, j);
  const netns = `${netnsPrefix(index)}${name}`;
  const veth = vethName(index, j);
  const storageVeth = storageVethName(index, j);
  const mountNs = path.join(dir, 'ns', `${name}.mnt`);
  const utsNs = path.join(dir, 'ns', `${name}.uts`);
  const at: At = (...parts) => path.join(root, ...parts);

  const t0 = Date.now();
  const step = (what: string) => debug(`${name}: ${what} at ${Date.now() - t0} ms`);
  makeFolders(at, clientKey);
  step('folders');
  const { hostKey, fingerprint } = await makeEtc(at, name, address, step);
  makeNfsFolders({ root, name });
  step('etc and keys');
  const disks = await makeDisks(at, layout);
  step('disks');
  await addHostNetwork({ index, netns, veth, storageVeth });
  step('links');
  const ns = await makeNamespaces(name, { mountNs, utsNs, netns });
  await makeRoot(dir, name, mountNs, at);
  step('root and mounts');
  const ifup = await startNetwork({ mountNs, utsNs, netns });
  if (ifup.code !== 0) throw new Error(`${name}: ifup -a failed: ${ifup.stderr.trim()}`);
  step('ifup -a');
  // Its daemons, each started in the host's namespaces and tracked by pid.
  const logs = { sshd: at('log', 'sshd.log'), zfsFuse: at('log', 'zfs-fuse.log') };
  const pids = await startDaemons({ mountNs, utsNs, netns, logs });

  const state: LabHostState = {
    name, address, netns, mountNs, root, hostKey, fingerprint, pids, disks, utsNs, veth, storageVeth,
    storageAddress: storageAddressOf(index, j), ns, logs,
  };
  await Promise.all([waitForZfs(state), waitForSshd(state), startNfs(state).then(() => waitForNfs(state))]);
  step('daemons answer');
  return state;
}

/** Per-host folders, root's authorized_keys holding the lab's client key. */
function makeFolders(at: At, clientKey: string): void {
  for (const d of ['home', 'root/.ssh', 'tmp', 'run/sshd', 'run/zfs', 'run/lock/zfs', 'srv/disks', 'var-lib-zfs', 'var-log', 'var-mail', 'fsroot', 'log']) {
    fs.mkdirSync(at(d), { recursive: true });
  }
  fs.chmodSync(at('tmp'), 0o1777);
  fs.chmodSync(at('run/lock'), 0o1777);
  fs.chmodSync(at('root'), 0o700);
  fs.chmodSync(at('root/.ssh'), 0o700);
  fs.symlinkSync('/dev/shm', at('run/shm'));
  for (const [mine, machine] of [['var-log', '/var/log'], ['var-mail', '/var/mail']] as const) {
    if (!fs.existsSync(machine)) continue;
    const st = fs.statSync(machine);
    fs.chownSync(at(mine), st.uid, st.gid);
    fs.chmodSync(at(mine), st.mode & 0o7777);
  }
  fs.writeFileSync(at('root/.ssh/authorized_keys'), `${clientKey}\n`, { mode: 0o600 });
}

/**
 * Its own /etc: a copy of the machine's, with its name, its host key, its sshd_config, its network
 * configuration and its own /etc/hostid.
 */
async function makeEtc(at: At, name: string, address: string, step: (what: string) => void): Promise<{ hostKey: string; fingerprint: string }> {
  await must('cp', ['-a', '/etc', at('etc')]);
  step('cp');
  fs.writeFileSync(at('etc/hostname'), `${name}\n`);
  fs.appendFileSync(at('etc/hosts'), `${address}\t${name}\n`);
  for (const f of fs.readdirSync(at('etc/ssh'))) if (f.startsWith('ssh_host_')) fs.rmSync(at('etc/ssh', f));
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', at('etc/ssh/ssh_host_ed25519_key')]);
  const [keyType, keyBody] = fs.readFileSync(at('etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/);
  const hostKey = `${keyType} ${keyBody}`;
  const fingerprint = (await must('ssh-keygen', ['-l', '-f', at('etc/ssh/ssh_host_ed25519_key.pub')])).split(/\s+/)[1] ?? '';
  fs.writeFileSync(at('etc/ssh/sshd_config'), sshdConfig(name));
  unlockRoot(at('etc/shadow'));
  writeNetworkConfig(at, name, address);
  // Without /etc/hostid, glibc's gethostid() (zfs-fuse's host id) comes from the address the host
  // name resolves to in /etc/hosts: an edited /etc/hosts changes it, and zfs-fuse drops every pool
  // of its zpool.cache at its next start ("last accessed by another system"). A real host's id stays.
  fs.writeFileSync(at('etc/hostid'), randomBytes(4));
  return { hostKey, fingerprint };
}

/** sshd listens on every address of the host (its own network namespace), as a VM's does. */
function sshdConfig(name: string): string {
  return [
    `# sshd of lab host ${name}: written by lab/lab.ts`,
    'ListenAddress 0.0.0.0:22',
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'PidFile /run/sshd.pid',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'MaxStartups 200:30:400',
    'MaxSessions 200',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

/**
 * /etc/network/interfaces as an installer writes it: loopback, the interfaces.d include, eth0
 * static with the management address (no gateway: the lab's networks route nowhere). eth1 is left
 * to the product. The copied /etc brings the if-*.d run-parts folders ifup needs.
 */
function writeNetworkConfig(at: At, name: string, address: string): void {
  for (const d of ['if-pre-up.d', 'if-up.d', 'if-down.d', 'if-post-down.d']) {
    if (!fs.statSync(at('etc/network', d), { throwIfNoEntry: false })?.isDirectory()) {
      throw new Error(`${name}: /etc/network/${d} is missing (is Debian ifupdown installed? scripts/setup.sh installs it)`);
    }
  }
  fs.rmSync(at('etc/network/interfaces.d'), { recursive: true, force: true });
  fs.mkdirSync(at('etc/network/interfaces.d'));
  fs.writeFileSync(at('etc/network/interfaces'), [
    `# The network interfaces of ${name} (written by lab/host.ts at install; interfaces(5)).`,
    'source /etc/network/interfaces.d/*',
    '',
    '# The loopback network interface',
    'auto lo',
    'iface lo inet loopback',
    '',
    '# The management network interface',
    'auto eth0',
    'iface eth0 inet static',
    `\taddress ${address}/${PREFIX_LENGTH}`,
    '',
  ].join('\n'));
}

/** With UsePAM no, sshd refuses every login to an account whose password field starts with '!'. */
function unlockRoot(shadowFile: string): void {
  const lines = fs.readFileSync(shadowFile, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith('root:'));
  const fields = i >= 0 ? lines[i]!.split(':') : [];
  if (fields[1]?.startsWith('!')) {
    fields[1] = '*';
    lines[i] = fields.join(':');
    fs.writeFileSync(shadowFile, lines.join('\n'));
  }
}

/** Persistent private mount and UTS namespaces (kept alive by their files); returns all three inodes. */
async function makeNamespaces(name: string, h: { mountNs: string; utsNs: string; netns: string }): Promise<LabHostState['ns']> {
  const { mountNs, utsNs, netns } = h;
  fs.writeFileSync(mountNs, '');
  fs.writeFileSync(utsNs, '');
  await must('unshare', [`--mount=${mountNs}`, `--uts=${utsNs}`, '--propagation', 'private', 'true']);
  const table = mountTable();
  const ns = { mnt: nsFileInode(mountNs, table) ?? 0, uts: nsFileInode(utsNs, table) ?? 0, net: nsFileInode(`/run/netns/${netns}`, table) ?? 0 };
  if (!ns.mnt || !ns.uts || !ns.net) throw new Error(`${name}: namespace files are not mounted (${JSON.stringify(ns)})`);
  await must('nsenter', [`--uts=${utsNs}`, '--', 'hostname', name]);
  return ns;
}

/** Its root: a tmpfs with the machine's top-level directories bound in and its own folders. */
async function makeRoot(dir: string, name: string, mountNs: string, at: At): Promise<void> {
  const inNs = (...argv: string[]) => must('nsenter', [`--mount=${mountNs}`, '--', ...argv], { env: HOST_ENV });
  const fsroot = at('fsroot');
  await inNs('mount', '-t', 'tmpfs', '-o', 'mode=755,size=64m', `ezlab-${name}`, fsroot);
  const top = fs.readdirSync('/', { withFileTypes: true });
  const shared = top.filter((e) => e.isDirectory() && !PRIVATE_TOP.includes(e.name) && e.name !== 'lost+found').map((e) => e.name);
  const symlinks = top.filter((e) => e.isSymbolicLink()).map((e) => `/${e.name}`);
  await inNs('mkdir', ...[...shared, ...PRIVATE_TOP, '.oldroot'].map((d) => path.join(fsroot, d)));
  if (symlinks.length > 0) await inNs('cp', '-P', '--preserve=all', ...symlinks, `${fsroot}/`);
  for (const d of shared) await inNs('mount', '--rbind', `/${d}`, path.join(fsroot, d));
  for (const b of PRIVATE_BINDS) {
    if (b.ifExists && !fs.existsSync(`/${b.to}`)) continue;
    await inNs('mount', '--bind', at(b.from), path.join(fsroot, b.to));
  }
  await inNs('pivot_root', fsroot, path.join(fsroot, '.oldroot'));
  await inNs('umount', '-l', '/.oldroot');
  await inNs('rmdir', '/.oldroot');
  await hideLab(dir, mountNs);
}

/**
 * The recursive bind of the lab dir's parents copied in mounts the host must not hold: its own
 * root again (under fsroot), the ns dir, and namespace files (other hosts', other labs'), which
 * would keep those namespaces alive as long as this host lives. Drop them, then hide the lab dir
 * (its client key, the other hosts' disks) behind an empty read-only tmpfs.
 */
async function hideLab(dir: string, mountNs: string): Promise<void> {
  const drop = (await mountsInNamespace(mountNs)).filter((m) => m.fsType === 'nsfs' || isUnder(m.mountPoint, dir));
  await unmountInNamespace(mountNs, drop.map((m) => m.mountPoint));
  // A lab dir under one of the host's private folders (a clone in /tmp, say) is not there to hide.
  const visible = (await run('nsenter', [`--mount=${mountNs}`, '--', 'test', '-d', dir])).code === 0;
  if (visible) await must('nsenter', [`--mount=${mountNs}`, '--', 'mount', '-t', 'tmpfs', '-o', 'ro,size=4k,mode=755', 'ezlab-hidden', dir], { env: HOST_ENV });
}
