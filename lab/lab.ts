/**
 * The storage-host lab: N "storage VMs" on this machine, each a Linux network namespace plus a
 * persistent private mount (and UTS) namespace with its own real sshd and its own real zfs-fuse.
 *
 * Layout of a lab dir (default <repo>/.data/lab):
 *   .esxi-zfs-lab            marker: only a dir holding it is ever deleted by labDown
 *   state.json               LabState (written last: its presence means "built")
 *   build.json               what has been created so far (index, hosts): for cleaning up a crash
 *   inventory.yaml           the lab inventory (apiVersion esxi-zfs/v1)
 *   id_ed25519{,.pub}        root's client key, trusted by every host
 *   known_hosts              "name,address key" for every host
 *   ns/                      private bind mount holding NAME.mnt / NAME.uts (the persistent namespaces)
 *   hosts/NAME/              per-host state: etc/ home/ root/ tmp/ run/ srv/disks/ var-lib-zfs/
 *                            var-log/ var-mail/ log/ and fsroot/ (the host's root, a tmpfs, in its ns)
 *
 * Inside a host's mount namespace the root is a small tmpfs (pivot_root) holding recursive binds of
 * the machine's top-level directories (/usr, /var, /work, /proc, /dev, ...) and per-host folders for
 * /etc, /home, /root, /tmp, /run, /srv, /var/lib/zfs, /var/log and /var/mail. So a directory created
 * at the top of a host (a pool's default mountpoint /sp1, /export/...) exists only in that host and
 * vanishes with it; /run/zfs, /run/lock/zfs and /run/sshd are private because /run is.
 *
 * Networking: bridge ezlab<I> with gateway 10.213.<I>.1/24 in the root namespace; host j is
 * 10.213.<I>.<11+j> on eth0 of netns ezlab<I>-<name>, joined by veth ezl<I>v<j>. The index I is
 * 0 for the default lab dir and derived from the dir's path otherwise (then the next free one), so
 * several labs (a dev lab and a test lab) can run side by side. A bridge is owned by the lab whose
 * dir is in its alias ("esxi-zfs-lab:<dir>"); nothing without that alias is ever touched.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { HOST_ENV, must, run } from './exec';
import { inventoryYaml, labInventory } from './inventory';
import {
  isAlive, isUnder, links, mountTable, mountsUnder, netnsNames, nsFileInode, overlaps,
  pidsInNamespaces, processExe, processNs, terminate, unmountUnder, usedPrefixes,
} from './sys';

export interface LabDisk {
  /** As seen inside the host, e.g. /srv/disks/c8t1d0. */
  path: string;
  sizeBytes: number;
  role: 'data' | 'log' | 'cache';
  /** 'file': a sparse file; 'block': a block device node for a loop device over a sparse file. */
  kind: 'file' | 'block';
  /** For 'block': the sparse file behind the loop device (root namespace path) and the device. */
  backingFile?: string;
  loopDevice?: string;
}

export interface LabHostState {
  name: string;
  address: string;
  netns: string;
  mountNs: string;
  root: string;
  hostKey: string;
  fingerprint: string;
  pids: { sshd: number; zfsFuse: number };
  disks: LabDisk[];
  /** The file keeping the host's UTS namespace (its own `hostname`) alive. */
  utsNs: string;
  /** Root-namespace end of the host's veth pair (its other end is eth0 in the host). */
  veth: string;
  /** Namespace inodes, to recognise the host's processes. */
  ns: { mnt: number; uts: number; net: number };
  logs: { sshd: string; zfsFuse: string };
}

export interface LabState {
  dir: string;
  bridge: string;
  gateway: string;
  subnet: string;
  privateKeyFile: string;
  hosts: LabHostState[];
  inventoryFile: string;
  /** The I in ezlab<I> / 10.213.<I>.0/24. */
  index: number;
  netnsPrefix: string;
  /** known_hosts with every host's pinned key, for `ssh -o UserKnownHostsFile=`. */
  knownHostsFile: string;
  createdAt: string;
}

export interface LabOptions {
  hosts?: number;
  names?: string[];
  dir?: string;
  /** Told each repair labUp makes (a daemon restarted). */
  report?: (line: string) => void;
}

export const DEFAULT_LAB_DIR = path.resolve(__dirname, '..', '.data', 'lab');
export const DEFAULT_HOST_COUNT = 2;
const MARKER = '.esxi-zfs-lab';
const MAX_HOSTS = 200;
const HOST_OFFSET = 11;
const PREFIX_LENGTH = 24;
const SSHD = '/usr/sbin/sshd';
const ZFS_FUSE = '/usr/sbin/zfs-fuse';

/**
 * The runbook's disk names; distinct sizes so a runbook can tell them apart. zfs-fuse refuses a
 * plain file as a cache device ("cache device must be a disk or disk slice"), so the cache disk is
 * a block device: a loop device over a sparse file, its node placed at /srv/disks/c9t0d0.
 */
export const LAB_DISKS: readonly { name: string; sizeBytes: number; role: LabDisk['role']; kind: LabDisk['kind'] }[] = [
  { name: 'c8t1d0', sizeBytes: 2 * 1024 ** 3, role: 'data', kind: 'file' },
  { name: 'c11t0d0', sizeBytes: 256 * 1024 ** 2, role: 'log', kind: 'file' },
  { name: 'c9t0d0', sizeBytes: 512 * 1024 ** 2, role: 'cache', kind: 'block' },
];
const DISK_DIR_IN_HOST = '/srv/disks';

// ---------------------------------------------------------------------------------------------
// Names

export const defaultHostNames = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `test-san-${String(i + 1).padStart(2, '0')}`);

const bridgeName = (index: number) => `ezlab${index}`;
const netnsPrefix = (index: number) => `ezlab${index}-`;
const vethName = (index: number, j: number) => `ezl${index}v${j}`;
const subnetOf = (index: number) => `10.213.${index}.0/${PREFIX_LENGTH}`;
const gatewayOf = (index: number) => `10.213.${index}.1`;
const addressOf = (index: number, j: number) => `10.213.${index}.${HOST_OFFSET + j}`;
const bridgeAlias = (dir: string) => `esxi-zfs-lab:${dir}`;

function preferredIndex(dir: string): number {
  if (dir === DEFAULT_LAB_DIR) return 0;
  return 1 + (parseInt(createHash('sha256').update(dir).digest('hex').slice(0, 8), 16) % 254);
}

function resolveDir(dir?: string): string {
  const resolved = path.resolve(dir ?? DEFAULT_LAB_DIR);
  if (resolved === '/' || resolved.split('/').length < 3) throw new Error(`refusing to use ${resolved} as a lab dir`);
  return resolved;
}

function requestedNames(opts: LabOptions): string[] {
  const names = opts.names ?? defaultHostNames(opts.hosts ?? DEFAULT_HOST_COUNT);
  if (opts.names && opts.hosts !== undefined && opts.hosts !== opts.names.length) {
    throw new Error(`hosts (${opts.hosts}) and names (${opts.names.length}) disagree`);
  }
  if (names.length < 1 || names.length > MAX_HOSTS) throw new Error(`a lab has 1 to ${MAX_HOSTS} hosts, not ${names.length}`);
  for (const name of names) {
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
      throw new Error(`host name '${name}' must be a lower-case DNS label (letters, digits, '-', not at either end)`);
    }
  }
  if (new Set(names).size !== names.length) throw new Error(`host names must be unique: ${names.join(', ')}`);
  return names;
}

const statePath = (dir: string) => path.join(dir, 'state.json');
const buildPath = (dir: string) => path.join(dir, 'build.json');

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

interface BuildRecord {
  index: number;
  hosts: string[];
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Brings the lab up. A lab with exactly the requested hosts and all its namespaces is kept: a
 * daemon that died (sshd, zfs-fuse) is restarted in its host, whose disks, pools and keys stay.
 * Anything else (no lab, a crashed build, a namespace gone, other hosts) is cleaned up completely
 * and built afresh.
 */
export async function labUp(opts: LabOptions = {}): Promise<LabState> {
  const dir = resolveDir(opts.dir);
  const names = requestedNames(opts);
  return withLock(dir, async () => {
    const existing = readJson<LabState>(statePath(dir));
    if (existing && (await isIntact(existing, dir, names))) return repair(existing, opts.report ?? (() => undefined));
    await teardown(dir);
    try {
      return await build(dir, names);
    } catch (error) {
      try {
        await teardown(dir);
      } catch (cleanup) {
        (error as Error).message += `\n(and cleaning up after it failed: ${(cleanup as Error).message})`;
      }
      throw error;
    }
  });
}

/** Stops every lab process, unmounts every lab mount, deletes namespaces, links and the lab dir. */
export async function labDown(opts: { dir?: string } = {}): Promise<void> {
  const dir = resolveDir(opts.dir);
  await withLock(dir, () => teardown(dir));
}

export interface LabHostStatus {
  name: string;
  sshdAlive: boolean;
  zfsAlive: boolean;
  reachable: boolean;
}

export async function labStatus(opts: { dir?: string } = {}): Promise<{ state: LabState | null; hosts: LabHostStatus[] }> {
  const dir = resolveDir(opts.dir);
  const state = readJson<LabState>(statePath(dir));
  if (!state) return { state: null, hosts: [] };
  const hosts = await Promise.all(
    state.hosts.map(async (h) => ({
      name: h.name,
      sshdAlive: daemonOk(h.pids.sshd, SSHD, h.ns.mnt),
      zfsAlive: daemonOk(h.pids.zfsFuse, ZFS_FUSE, h.ns.mnt),
      reachable: (await sshBanner(h.address, 1000)).startsWith('SSH-2.0-'),
    })),
  );
  return { state, hosts };
}

/** Runs argv inside the host's mount, UTS and network namespaces (as root, via nsenter). */
export function labExec(host: LabHostState, argv: string[], opts: { input?: string } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  return run('nsenter', [...nsenterArgs(host), ...argv], { input: opts.input, env: HOST_ENV });
}

interface HostNs { mountNs: string; utsNs?: string; netns: string }

function nsenterArgs(h: HostNs): string[] {
  return [`--mount=${h.mountNs}`, ...(h.utsNs ? [`--uts=${h.utsNs}`] : []), `--net=/run/netns/${h.netns}`, '--'];
}

// ---------------------------------------------------------------------------------------------
// Health

function daemonOk(pid: number, exe: string, mntIno: number): boolean {
  return isAlive(pid) && processExe(pid) === exe && processNs(pid, 'mnt') === mntIno;
}

/** The first line sshd sends ("SSH-2.0-OpenSSH_9.2p1 ..."), or '' when nothing answers in time. */
export function sshBanner(address: string, timeoutMs = 1000, port = 22): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const socket = net.connect({ host: address, port });
    const done = (value: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(''), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const nl = data.indexOf('\n');
      if (nl >= 0) done(data.slice(0, nl).trim());
    });
    socket.on('error', () => done(''));
    socket.on('close', () => done(data.trim()));
  });
}

/** Whether the lab's structure stands: its hosts, bridge and namespaces (daemons aside). */
async function isIntact(state: LabState, dir: string, names: string[]): Promise<boolean> {
  if (state.dir !== dir || state.hosts.length !== names.length) return false;
  if (state.hosts.some((h, j) => h.name !== names[j])) return false;
  const bridge = (await links()).find((l) => l.ifname === state.bridge);
  if (!bridge || bridge.ifalias !== bridgeAlias(dir)) return false;
  const table = mountTable();
  return state.hosts.every((h) =>
    fs.existsSync(`/run/netns/${h.netns}`) &&
    nsFileInode(`/run/netns/${h.netns}`, table) === h.ns.net &&
    nsFileInode(h.mountNs, table) === h.ns.mnt &&
    nsFileInode(h.utsNs, table) === h.ns.uts);
}

/** Restarts each host's dead daemons in its namespaces; writes state.json when a pid changed. */
async function repair(state: LabState, report: (line: string) => void): Promise<LabState> {
  const hosts = await Promise.all(state.hosts.map((h) => repairHost(h, report)));
  const repaired = { ...state, hosts };
  if (hosts.some((h, j) => h !== state.hosts[j])) writeJson(statePath(state.dir), repaired);
  await Promise.all(hosts.map((h) => waitForSshd(h)));
  return repaired;
}

async function repairHost(h: LabHostState, report: (line: string) => void): Promise<LabHostState> {
  let host = h;
  if (!daemonOk(h.pids.zfsFuse, ZFS_FUSE, h.ns.mnt)) {
    host = { ...host, pids: { ...host.pids, zfsFuse: await restartZfs(host) } };
    report(`${h.name}: zfs-fuse was not running (pid ${h.pids.zfsFuse}); restarted as pid ${host.pids.zfsFuse}, pools imported again`);
  }
  if (!daemonOk(h.pids.sshd, SSHD, h.ns.mnt)) {
    host = { ...host, pids: { ...host.pids, sshd: startSshd(host) } };
    report(`${h.name}: sshd was not running (pid ${h.pids.sshd}); restarted as pid ${host.pids.sshd}`);
  }
  return host;
}

/**
 * A dead zfs-fuse leaves its FUSE mounts behind ("Transport endpoint is not connected"): unmount
 * them and start it again, after stopping any other zfs-fuse in the host (started by hand: two
 * would share its socket). It imports the pools in its zpool.cache itself; a pool made shortly
 * before the crash may not be there yet, and counts as in use by the dead daemon, hence
 * `import -f` (the disks are this host's alone). Then its datasets are mounted again.
 */
async function restartZfs(h: LabHostState): Promise<number> {
  const strays = pidsInNamespaces({ mnt: [h.ns.mnt] }).filter((pid) => processExe(pid) === ZFS_FUSE);
  if ((await terminate(strays)).length > 0) throw new Error(`${h.name}: zfs-fuse ${strays.join(', ')} would not stop`);
  const mountinfo = (await must('nsenter', [`--mount=${h.mountNs}`, '--', 'cat', '/proc/self/mountinfo'])).split('\n');
  const stale = mountinfo
    .filter((l) => / - fuse\.zfs /.test(l))
    .map((l) => unescapeMount(l.split(' ')[4] ?? ''))
    .sort((a, b) => b.split('/').length - a.split('/').length);
  for (const mp of stale) await run('nsenter', [`--mount=${h.mountNs}`, '--', 'umount', '-l', mp]);
  const pid = startZfsFuse(h);
  await waitForZfs({ ...h, pids: { ...h.pids, zfsFuse: pid } });
  // Exit 1 without a word: nothing left to import.
  const imported = await labExec(h, ['zpool', 'import', '-a', '-f', '-d', DISK_DIR_IN_HOST]);
  if (imported.code !== 0 && imported.stderr.trim()) throw new Error(`${h.name}: zpool import after restarting zfs-fuse: ${imported.stderr.trim()}`);
  const mounted = await labExec(h, ['zfs', 'mount', '-a']);
  if (mounted.code !== 0) throw new Error(`${h.name}: zfs mount -a after restarting zfs-fuse: ${mounted.stderr.trim()}`);
  return pid;
}

// In the foreground (--no-daemon) zfs-fuse writes no pid file: the spawned pid is the daemon.
const startZfsFuse = (h: HostNs & { logs: LabHostState['logs'] }) =>
  spawnDaemon([...nsenterArgs(h), ZFS_FUSE, '--no-daemon', '--no-kstat-mount'], h.logs.zfsFuse);
const startSshd = (h: HostNs & { logs: LabHostState['logs'] }) =>
  spawnDaemon([...nsenterArgs(h), SSHD, '-D', '-e', '-f', '/etc/ssh/sshd_config'], h.logs.sshd);

// ---------------------------------------------------------------------------------------------
// Locking: one labUp/labDown per lab dir at a time, across processes.

async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: number;
      let ageMs: number;
      try {
        holder = Number(fs.readFileSync(lock, 'utf8').trim());
        ageMs = Date.now() - fs.statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      // An empty lock file is one being written right now, unless it has been empty for long.
      const stale = Number.isInteger(holder) && holder > 0 ? !isAlive(holder) : ageMs > 5000;
      if (stale) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`the lab in ${dir} is locked by pid ${holder} (${lock})`, { cause: error });
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Teardown: everything a lab (healthy, half built or crashed) may have left.

async function teardown(dir: string): Promise<void> {
  const marker = bridgeAlias(dir);
  const state = readJson<LabState>(statePath(dir));
  const record = readJson<BuildRecord>(buildPath(dir));
  const allLinks = await links();

  // Which network indices are ours: bridges carrying our alias, and recorded indices whose bridge
  // is gone (a crash between deleting the bridge and the namespaces) but not taken by another lab.
  const indices = new Set<number>();
  for (const l of allLinks) {
    const m = /^ezlab(\d+)$/.exec(l.ifname);
    if (m && l.ifalias === marker) indices.add(Number(m[1]));
  }
  for (const index of [state?.index, record?.index]) {
    if (index === undefined) continue;
    // No alias at all: a crash between creating the bridge and naming it (see claimNetwork).
    const bridge = allLinks.find((l) => l.ifname === bridgeName(index));
    if (!bridge || bridge.ifalias === marker || (!bridge.ifalias && index === record?.index)) indices.add(index);
  }
  const ourNetns = () => netnsNames().filter((n) => [...indices].some((i) => n.startsWith(netnsPrefix(i))));

  // Every process in one of our namespaces: sshd, zfs-fuse, SSH sessions, zfs recv, labExec calls.
  const inodes = { mnt: new Set<number>(), uts: new Set<number>(), net: new Set<number>() };
  const table = mountTable();
  for (const m of table) {
    if (m.fsType !== 'nsfs') continue;
    const match = /^(mnt|uts|net):\[(\d+)\]$/.exec(m.root);
    if (!match) continue;
    const ours = isUnder(m.mountPoint, dir) || ourNetns().some((n) => m.mountPoint === `/run/netns/${n}`);
    if (ours) inodes[match[1] as 'mnt' | 'uts' | 'net'].add(Number(match[2]));
  }
  for (let pass = 0; pass < 4; pass++) {
    const pids = pidsInNamespaces(inodes);
    if (pids.length === 0) break;
    debug(`teardown: stopping ${pids.map((p) => `${p}(${processExe(p) ?? '?'})`).join(' ')}`);
    const left = await terminate(pids);
    debug('teardown: stopped');
    if (left.length > 0) throw new Error(`lab processes would not stop: ${left.join(', ')}`);
  }
  // Recorded daemons outside those namespaces cannot be ours any more; leave them alone.

  for (const loop of labLoops(dir)) await run('losetup', ['--detach', loop]);
  await unmountUnder(dir);
  for (const n of ourNetns()) await run('ip', ['netns', 'delete', n]);
  for (const l of await links()) {
    const ours = [...indices].some((i) => new RegExp(`^ezl${i}v\\d+$`).test(l.ifname) || (l.ifname === bridgeName(i) && (l.ifalias === marker || !l.ifalias)));
    if (ours) await run('ip', ['link', 'delete', l.ifname]);
  }
  removeLabDir(dir);
}

function removeLabDir(dir: string): void {
  // Leftovers of an earlier removal that did not finish (renamed below, so certainly ours).
  const parent = path.dirname(dir);
  const trashPrefix = `${path.basename(dir)}.removing-`;
  const trash = fs.existsSync(parent) ? fs.readdirSync(parent).filter((n) => n.startsWith(trashPrefix)).map((n) => path.join(parent, n)) : [];
  if (fs.existsSync(dir)) {
    const mounted = mountsUnder(dir);
    if (mounted.length > 0) throw new Error(`refusing to delete ${dir}: still mounted: ${mounted.map((m) => m.mountPoint).join(', ')}`);
    const entries = fs.readdirSync(dir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new Error(`refusing to delete ${dir}: it is not a lab dir (no ${MARKER} in it)`);
    }
    // Renamed first, so that a removal cut short never leaves a lab dir without its marker.
    const doomed = path.join(parent, `${trashPrefix}${process.pid}-${Date.now()}`);
    fs.renameSync(dir, doomed);
    trash.push(doomed);
  }
  for (const d of trash) {
    const left = mountsUnder(d);
    if (left.length > 0) throw new Error(`refusing to delete ${d}: still mounted: ${left.map((m) => m.mountPoint).join(', ')}`);
    // A crashed labUp's helpers (a cp -a /etc) may still be writing into it for a moment: retry.
    fs.rmSync(d, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
}

// ---------------------------------------------------------------------------------------------
// Build

async function preflight(): Promise<void> {
  for (const file of [SSHD, ZFS_FUSE, '/usr/sbin/zpool', '/usr/bin/nsenter', '/usr/bin/unshare', '/usr/bin/ssh-keygen']) {
    if (!fs.existsSync(file)) throw new Error(`the lab needs ${file} (Debian packages openssh-server, zfs-fuse, util-linux)`);
  }
  if (!fs.existsSync('/dev/fuse')) throw new Error('the lab needs /dev/fuse for zfs-fuse');
  if (!fs.existsSync('/var/lib/zfs')) throw new Error('the lab needs /var/lib/zfs (zfs-fuse keeps zpool.cache there); it is bound per host');
  if (process.getuid?.() !== 0) throw new Error('the lab must run as root (namespaces, mounts, links)');
}

/** Finds a free index and claims it by creating its bridge (creation is the atomic claim). */
async function claimNetwork(dir: string, recordIndex: (index: number) => void): Promise<number> {
  const used = await usedPrefixes();
  const first = preferredIndex(dir);
  const order = [first, ...Array.from({ length: 255 }, (_, i) => i).filter((i) => i !== first)];
  for (const index of order) {
    const subnet = subnetOf(index);
    if (used.some((u) => overlaps(u.prefix, subnet))) continue;
    if (netnsNames().some((n) => n.startsWith(netnsPrefix(index)))) continue;
    const bridge = bridgeName(index);
    recordIndex(index); // before creating it, so that a crash right after leaves no unknown bridge
    const created = await run('ip', ['link', 'add', 'name', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    if (created.code !== 0) continue;
    await must('ip', ['link', 'set', 'dev', bridge, 'alias', bridgeAlias(dir)]);
    await must('ip', ['addr', 'add', `${gatewayOf(index)}/${PREFIX_LENGTH}`, 'dev', bridge]);
    await must('ip', ['link', 'set', 'dev', bridge, 'up']);
    return index;
  }
  throw new Error('no free lab network: every 10.213.<I>.0/24 collides with a route or another lab');
}

async function build(dir: string, names: string[]): Promise<LabState> {
  await preflight();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, MARKER), `esxi-zfs storage-host lab; labDown deletes this dir\n`);
  const privateKeyFile = path.join(dir, 'id_ed25519');
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `esxi-zfs-lab@${path.basename(dir)}`, '-f', privateKeyFile]);
  const clientKey = fs.readFileSync(`${privateKeyFile}.pub`, 'utf8').trim();

  const index = await claimNetwork(dir, (i) => writeJson(buildPath(dir), { index: i, hosts: [] } satisfies BuildRecord));
  const record: BuildRecord = { index, hosts: [] };
  writeJson(buildPath(dir), record);

  // The persistent namespace files must sit on a private mount (see unshare(1)).
  const nsDir = path.join(dir, 'ns');
  fs.mkdirSync(nsDir);
  await must('mount', ['--bind', nsDir, nsDir]);
  await must('mount', ['--make-private', nsDir]);

  const hosts = await Promise.all(
    names.map((name, j) => {
      record.hosts.push(name);
      writeJson(buildPath(dir), record);
      return buildHost({ dir, index, name, j, clientKey });
    }),
  );

  const knownHostsFile = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHostsFile, hosts.map((h) => `${h.name},${h.address} ${h.hostKey}\n`).join(''));
  const inventoryFile = path.join(dir, 'inventory.yaml');
  const inventory = labInventory({ privateKeyFile, prefixLength: PREFIX_LENGTH, hosts });
  fs.writeFileSync(
    inventoryFile,
    inventoryYaml(inventory, ` The storage-host lab in ${dir}, written by lab/lab.ts on every lab build: edits are overwritten.\n Host keys are the lab hosts' own; ${knownHostsFile} pins the same keys for the ssh client.`),
  );
  const state: LabState = {
    dir,
    bridge: bridgeName(index),
    gateway: gatewayOf(index),
    subnet: subnetOf(index),
    privateKeyFile,
    hosts,
    inventoryFile,
    index,
    netnsPrefix: netnsPrefix(index),
    knownHostsFile,
    createdAt: new Date().toISOString(),
  };
  writeJson(statePath(dir), state);
  return state;
}

interface HostPlan {
  dir: string;
  index: number;
  name: string;
  j: number;
  clientKey: string;
}

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
];

function sshdConfig(name: string, address: string): string {
  return [
    `# sshd of lab host ${name}: written by lab/lab.ts`,
    `ListenAddress ${address}:22`,
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

async function buildHost(plan: HostPlan): Promise<LabHostState> {
  const { dir, index, name, j, clientKey } = plan;
  const root = path.join(dir, 'hosts', name);
  const address = addressOf(index, j);
  const netns = `${netnsPrefix(index)}${name}`;
  const veth = vethName(index, j);
  const mountNs = path.join(dir, 'ns', `${name}.mnt`);
  const utsNs = path.join(dir, 'ns', `${name}.uts`);
  const at = (...parts: string[]) => path.join(root, ...parts);

  const t0 = Date.now();
  const step = (what: string) => debug(`${name}: ${what} at ${Date.now() - t0} ms`);
  // 1. Per-host folders.
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

  step('folders');
  // 2. Its own /etc: a copy of the machine's, with its name, its host key and its sshd_config.
  await must('cp', ['-a', '/etc', at('etc')]);
  step('cp');
  fs.writeFileSync(at('etc/hostname'), `${name}\n`);
  fs.appendFileSync(at('etc/hosts'), `${address}\t${name}\n`);
  for (const f of fs.readdirSync(at('etc/ssh'))) if (f.startsWith('ssh_host_')) fs.rmSync(at('etc/ssh', f));
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', at('etc/ssh/ssh_host_ed25519_key')]);
  const [keyType, keyBody] = fs.readFileSync(at('etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/);
  const hostKey = `${keyType} ${keyBody}`;
  const fingerprint = (await must('ssh-keygen', ['-l', '-f', at('etc/ssh/ssh_host_ed25519_key.pub')])).split(/\s+/)[1] ?? '';
  fs.writeFileSync(at('etc/ssh/sshd_config'), sshdConfig(name, address));
  unlockRoot(at('etc/shadow'));

  step('etc and keys');
  // 3. Blank sparse disks.
  const disks: LabDisk[] = [];
  for (const d of LAB_DISKS) {
    const inHost = `${DISK_DIR_IN_HOST}/${d.name}`;
    const file = d.kind === 'file' ? at('srv/disks', d.name) : at('backing', d.name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, 'w', 0o600);
    fs.ftruncateSync(fd, d.sizeBytes);
    fs.closeSync(fd);
    if (d.kind === 'file') {
      disks.push({ path: inHost, sizeBytes: d.sizeBytes, role: d.role, kind: d.kind });
      continue;
    }
    const loopDevice = await attachLoop(file);
    const [major, minor] = fs.readFileSync(`/sys/block/${path.basename(loopDevice)}/dev`, 'utf8').trim().split(':');
    await must('mknod', ['-m', '600', at('srv/disks', d.name), 'b', major ?? '', minor ?? '']);
    disks.push({ path: inHost, sizeBytes: d.sizeBytes, role: d.role, kind: d.kind, backingFile: file, loopDevice });
  }

  step('disks');
  // 4. Network namespace on the bridge.
  await must('ip', ['netns', 'add', netns]);
  await must('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  await must('ip', ['link', 'set', 'dev', veth, 'master', bridgeName(index), 'up']);
  await must('ip', ['-n', netns, 'addr', 'add', `${address}/${PREFIX_LENGTH}`, 'dev', 'eth0']);
  await must('ip', ['-n', netns, 'link', 'set', 'dev', 'eth0', 'up']);
  await must('ip', ['-n', netns, 'link', 'set', 'dev', 'lo', 'up']);

  step('network');
  // 5. Persistent private mount and UTS namespaces.
  fs.writeFileSync(mountNs, '');
  fs.writeFileSync(utsNs, '');
  await must('unshare', [`--mount=${mountNs}`, `--uts=${utsNs}`, '--propagation', 'private', 'true']);
  const table = mountTable();
  const ns = { mnt: nsFileInode(mountNs, table) ?? 0, uts: nsFileInode(utsNs, table) ?? 0, net: nsFileInode(`/run/netns/${netns}`, table) ?? 0 };
  if (!ns.mnt || !ns.uts || !ns.net) throw new Error(`${name}: namespace files are not mounted (${JSON.stringify(ns)})`);
  await must('nsenter', [`--uts=${utsNs}`, '--', 'hostname', name]);

  // 6. Its root: a tmpfs with the machine's top-level directories bound in and its own folders.
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
  // The recursive bind of the lab dir's parents copied in mounts the host must not hold: its own
  // root again (under fsroot), the ns dir, and namespace files (other hosts', other labs'), which
  // would keep those namespaces alive as long as this host lives. Drop them, then hide the lab dir
  // (its client key, the other hosts' disks) behind an empty read-only tmpfs.
  const inside = (await inNs('cat', '/proc/self/mountinfo')).split('\n').filter(Boolean);
  const drop = inside
    .map((l) => ({ mp: unescapeMount(l.split(' ')[4] ?? ''), nsfs: / - nsfs /.test(l) }))
    .filter((m) => m.mp && (m.nsfs || isUnder(m.mp, dir)))
    .map((m) => m.mp)
    .sort((a, b) => b.split('/').length - a.split('/').length);
  for (const mp of drop) await run('nsenter', [`--mount=${mountNs}`, '--', 'umount', '-l', mp]);
  // A lab dir under one of the host's private folders (a clone in /tmp, say) is not there to hide.
  const visible = (await run('nsenter', [`--mount=${mountNs}`, '--', 'test', '-d', dir])).code === 0;
  if (visible) await inNs('mount', '-t', 'tmpfs', '-o', 'ro,size=4k,mode=755', 'ezlab-hidden', dir);

  step('root and mounts');
  // 7. Its daemons, each started in the host's namespaces and tracked by pid.
  const host = { mountNs, utsNs, netns };
  const logs = { sshd: at('log', 'sshd.log'), zfsFuse: at('log', 'zfs-fuse.log') };
  await must('nsenter', [...nsenterArgs(host), SSHD, '-t', '-f', '/etc/ssh/sshd_config'], { env: HOST_ENV });
  const zfsFuse = startZfsFuse({ ...host, logs });
  const sshd = startSshd({ ...host, logs });

  const state: LabHostState = {
    name, address, netns, mountNs, root, hostKey, fingerprint, pids: { sshd, zfsFuse }, disks, utsNs, veth, ns, logs,
  };
  await Promise.all([waitForZfs(state), waitForSshd(state)]);
  step('daemons answer');
  return state;
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

const debug = (message: string): void => {
  if (process.env.EZLAB_DEBUG) process.stderr.write(`[lab ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
};

const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** losetup -f can race with another losetup -f; retry a few times. */
async function attachLoop(file: string): Promise<string> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const device = (await must('losetup', ['--find', '--show', file])).trim();
      if (/^\/dev\/loop\d+$/.test(device)) return device;
      last = new Error(`losetup printed '${device}'`);
    } catch (error) {
      last = error;
    }
    await sleep(20 + Math.random() * 80);
  }
  throw last;
}

/** Loop devices whose backing file lies in the lab dir (found from sysfs, so a crash loses none). */
function labLoops(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync('/sys/block').filter((n) => /^loop\d+$/.test(n));
  } catch {
    return [];
  }
  return names.filter((n) => {
    try {
      const backing = fs.readFileSync(`/sys/block/${n}/loop/backing_file`, 'utf8').trim().replace(/ \(deleted\)$/, '');
      return isUnder(backing, dir);
    } catch {
      return false;
    }
  }).map((n) => `/dev/${n}`);
}

function spawnDaemon(args: string[], logFile: string): number {
  const fd = fs.openSync(logFile, 'a');
  try {
    const child = spawn('nsenter', args, { detached: true, stdio: ['ignore', fd, fd], env: HOST_ENV, cwd: '/' });
    child.on('error', () => undefined);
    child.unref();
    if (!child.pid) throw new Error(`could not start nsenter ${args.join(' ')}`);
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

function logTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForZfs(h: LabHostState, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(h.pids.zfsFuse)) throw new Error(`${h.name}: zfs-fuse exited:\n${logTail(h.logs.zfsFuse)}`);
    const r = await labExec(h, ['zpool', 'list', '-H']);
    if (r.code === 0 && processExe(h.pids.zfsFuse) === ZFS_FUSE) return;
    const last = r.stderr.trim();
    if (Date.now() > deadline) throw new Error(`${h.name}: zfs-fuse did not answer in ${timeoutMs} ms (${last}):\n${logTail(h.logs.zfsFuse)}`);
    await sleep(50);
  }
}

async function waitForSshd(h: LabHostState, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(h.pids.sshd)) throw new Error(`${h.name}: sshd exited:\n${logTail(h.logs.sshd)}`);
    if ((await sshBanner(h.address, 500)).startsWith('SSH-2.0-') && processExe(h.pids.sshd) === SSHD) return;
    if (Date.now() > deadline) throw new Error(`${h.name}: sshd did not answer on ${h.address}:22 in ${timeoutMs} ms:\n${logTail(h.logs.sshd)}`);
    await sleep(50);
  }
}
