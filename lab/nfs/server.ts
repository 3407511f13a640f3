/**
 * A lab host's NFS server: rpcbind and nfs-ganesha, started in the host's namespaces (as sshd and
 * zfs-fuse are), tracked by pid in the host's state dir (hosts/NAME/nfs-pids.json), with their
 * config, log and pid files in the host's private folders:
 *
 *   /etc/ganesha/ganesha.conf            the server (written here); it includes
 *   /var/lib/nfs/ganesha-exports.conf    the exports, written by the lab's exportfs from
 *   /var/lib/nfs/etab                    the export table, as nfs-utils keeps it (zfs-fuse reads it)
 *   /usr/local/sbin/exportfs             the lab's exportfs (lab/nfs/exportfs/), first in PATH
 *   /var/log/ganesha/ganesha.log         ganesha's log;  /run/ganesha/ganesha.pid its pid file
 *
 * /usr/local/sbin and /var/lib/nfs are the host's own (bound from hosts/NAME/usr-local-sbin and
 * hosts/NAME/var-lib-nfs, see host.ts), so nothing outside the lab dir changes. The log is read
 * from outside, through hosts/NAME/var-log.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawnDaemon } from '../daemons';
import { labExec, nsenterArgs, type ExecResult } from '../exec';
import type { LabHostState } from '../state';
import { isAlive, pidsInNamespaces, processExe, processNs, terminate } from '../sys';
import { ETAB, EXPORT_IDS, GANESHA_EXE, GANESHA_EXPORTS, GANESHA_LOG, GANESHA_PID } from './exportfs';
import { exportfsScript } from './tools';

export const RPCBIND = '/usr/sbin/rpcbind';
export const NFS_PORT = 2049;
export const MOUNT_PORT = 20048;
const GANESHA_CONF = '/etc/ganesha/ganesha.conf';

export type NfsHost = Pick<LabHostState, 'name' | 'address' | 'mountNs' | 'utsNs' | 'netns' | 'root' | 'ns'>;

export interface NfsPids {
  rpcbind: number;
  ganesha: number;
  /** Size of ganesha's log when it started: its own lines follow. */
  logOffset: number;
}

/** A path inside the host, as seen from this machine (through the host's private folders). */
function outside(h: Pick<NfsHost, 'root'>, inHost: string): string {
  const binds: [string, string][] = [['/usr/local/sbin', 'usr-local-sbin'], ['/var/log', 'var-log'], ['/etc', 'etc']];
  const [prefix, dir] = binds.find(([p]) => inHost === p || inHost.startsWith(`${p}/`))!;
  return path.join(h.root, dir, inHost.slice(prefix.length));
}

const pidsFile = (h: Pick<NfsHost, 'root'>) => path.join(h.root, 'nfs-pids.json');

function ganeshaConfig(name: string): string {
  return [
    `# nfs-ganesha of lab host ${name}: written by lab/nfs/server.ts`,
    'NFS_CORE_PARAM {',
    '  Protocols = 3, 4;',
    `  NFS_Port = ${NFS_PORT};`,
    `  MNT_Port = ${MOUNT_PORT};`,
    // ESXi locks NFSv3 datastores with its own .lck files, not NLM; no quotas either.
    '  Enable_NLM = false;',
    '  Enable_RQUOTA = false;',
    '}',
    'NFSV4 {',
    '  Graceless = true;',
    '  Only_Numeric_Owners = true;',
    '}',
    'NFS_KRB5 { Active_krb5 = false; }',
    'EXPORT_DEFAULTS {',
    '  Access_Type = None;',
    // ganesha's default (-2) is stored by zfs-fuse as 60001, and the next SETATTR fails.
    '  Anonymous_Uid = 65534;',
    '  Anonymous_Gid = 65534;',
    '}',
    'LOG { Default_Log_Level = EVENT; }',
    `%include "${GANESHA_EXPORTS}"`,
    '',
  ].join('\n');
}

/**
 * The host's NFS folders and files, made while building it (before its root is assembled, since
 * usr-local-sbin and var-lib-nfs are bound in then): the exportfs stand-in, ganesha's config.
 */
export function makeNfsFolders(h: Pick<NfsHost, 'root' | 'name'>): void {
  for (const d of ['usr-local-sbin', 'var-lib-nfs', 'var-log/ganesha', 'etc/ganesha']) {
    fs.mkdirSync(path.join(h.root, d), { recursive: true });
  }
  installExportfs(h);
  fs.writeFileSync(outside(h, GANESHA_CONF), ganeshaConfig(h.name));
}

/** The host's /usr/local/sbin/exportfs, and its modules beside it (a host does not see this machine's /tmp, where a checkout may be). */
/** Inside a host: the lab exportfs's modules (usr-local-sbin is the host's own folder). */
const EXPORTFS_MODULES = '/usr/local/sbin/.exportfs';

function installExportfs(h: Pick<NfsHost, 'root'>): void {
  const modules = outside(h, EXPORTFS_MODULES);
  const built = path.dirname(exportfsScript());
  fs.mkdirSync(modules, { recursive: true });
  for (const file of fs.readdirSync(built).filter((f) => f.endsWith('.js'))) {
    const tmp = path.join(modules, `${file}.${process.pid}.tmp`);
    fs.copyFileSync(path.join(built, file), tmp);
    fs.renameSync(tmp, path.join(modules, file));
  }
  const file = outside(h, '/usr/local/sbin/exportfs');
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `#!${process.execPath}\nrequire(${JSON.stringify(`${EXPORTFS_MODULES}/command.js`)}).main();\n`, { mode: 0o755 });
  fs.renameSync(tmp, file);
}

function portOpen(address: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => done(true));
    socket.on('error', () => done(false));
  });
}

function logTail(file: string, from = 0, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(from).trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * What a boot does before the NFS server starts: /run is made inside the host (it may be the
 * host's own tmpfs), the export table starts empty, and `exportfs -r` exports what /etc/exports
 * and /etc/exports.d list.
 */
const BOOT = [
  'mkdir -p /run/ganesha /run/rpcbind /var/lib/nfs/ganesha /var/log/ganesha',
  `rm -f ${GANESHA_PID} /run/rpcbind/*`,
  `: > ${ETAB}`,
  `: > ${EXPORT_IDS}`,
  `: > ${GANESHA_EXPORTS}`,
  'exportfs -r',
].join(' && ');

/**
 * Starts the host's NFS server as a boot does (see BOOT), then rpcbind (ganesha registers NFSv3
 * and MOUNT with it, and exits if it cannot), then ganesha. ZFS's shares come back with shareZfs
 * (zfs share -a), as zfs-fuse's init script does.
 */
export async function startNfs(h: NfsHost): Promise<NfsPids> {
  for (const file of [GANESHA_EXE, RPCBIND]) {
    if (!fs.existsSync(file)) throw new Error(`the lab needs ${file} (Debian packages nfs-ganesha, nfs-ganesha-vfs, rpcbind: scripts/setup.sh)`);
  }
  if (nfsPids(h)) throw new Error(`${h.name}: its NFS server is running already (stopNfs first)`);
  installExportfs(h);
  const boot = await labExec(h, ['sh', '-c', BOOT]);
  if (boot.code !== 0) throw new Error(`${h.name}: preparing NFS failed (a host built before the lab had NFS needs labDown and labUp): ${(boot.stderr || boot.stdout).trim()}`);

  const log = outside(h, GANESHA_LOG);
  const rpcbind = spawnDaemon([...nsenterArgs(h), RPCBIND, '-f', '-w'], path.join(h.root, 'log', 'rpcbind.log'));
  const deadline = Date.now() + 10_000;
  while (!(await portOpen(h.address, 111, 200))) {
    if (!isAlive(rpcbind)) throw new Error(`${h.name}: rpcbind exited:\n${logTail(path.join(h.root, 'log', 'rpcbind.log'))}`);
    if (Date.now() > deadline) throw new Error(`${h.name}: rpcbind did not answer on ${h.address}:111 in 10 s`);
    await sleep(10);
  }
  const logOffset = fs.existsSync(log) ? fs.statSync(log).size : 0;
  const ganesha = spawnDaemon([...nsenterArgs(h), GANESHA_EXE, '-F', '-f', GANESHA_CONF, '-L', GANESHA_LOG, '-p', GANESHA_PID, '-N', 'NIV_EVENT'], log);
  const pids = { rpcbind, ganesha, logOffset };
  fs.writeFileSync(pidsFile(h), `${JSON.stringify(pids)}\n`);
  return pids;
}

/** The host's NFS server pids, when both still run (in the host, as rpcbind and ganesha). */
export function nfsPids(h: Pick<NfsHost, 'root' | 'ns'>): NfsPids | undefined {
  let pids: NfsPids;
  try {
    pids = JSON.parse(fs.readFileSync(pidsFile(h), 'utf8')) as NfsPids;
  } catch {
    return undefined;
  }
  const ours = (pid: number, exe: string) => isAlive(pid) && processExe(pid) === exe && processNs(pid, 'mnt') === h.ns.mnt;
  return ours(pids.ganesha, GANESHA_EXE) && ours(pids.rpcbind, RPCBIND) ? pids : undefined;
}

/**
 * Waits until ganesha answers on the host's address at the NFS port, then reads its log: any
 * config error (a client it could not parse drops the whole export, silently otherwise) fails.
 */
export async function waitForNfs(h: NfsHost, timeoutMs = 30_000): Promise<void> {
  const pids = JSON.parse(fs.readFileSync(pidsFile(h), 'utf8')) as NfsPids;
  const log = outside(h, GANESHA_LOG);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(pids.ganesha)) throw new Error(`${h.name}: ganesha exited:\n${logTail(log, pids.logOffset)}`);
    if (/NFS SERVER INITIALIZED/.test(logTail(log, pids.logOffset, 1000)) && (await portOpen(h.address, NFS_PORT))) break;
    if (Date.now() > deadline) throw new Error(`${h.name}: ganesha did not answer on ${h.address}:${NFS_PORT} in ${timeoutMs} ms:\n${logTail(log, pids.logOffset)}`);
    await sleep(20);
  }
  const errors = logTail(log, pids.logOffset, 1000).split('\n').filter((l) => /:(CONFIG|EXPORT) :(CRIT|MAJ|FATAL) :/.test(l));
  if (errors.length > 0) throw new Error(`${h.name}: ganesha started with config errors:\n${errors.join('\n')}`);
}

/** Stops ganesha, then rpcbind (by their pids, and any stray one in the host); the exports go with them. */
export async function stopNfs(h: NfsHost): Promise<void> {
  const strays = (exe: string) => pidsInNamespaces({ mnt: [h.ns.mnt] }).filter((pid) => processExe(pid) === exe);
  for (const exe of [GANESHA_EXE, RPCBIND]) {
    const left = await terminate(strays(exe));
    if (left.length > 0) throw new Error(`${h.name}: ${path.basename(exe)} ${left.join(', ')} would not stop`);
  }
  fs.rmSync(pidsFile(h), { force: true });
}

/** The NFS server as a boot brings it up: started, answering, then ZFS's shares exported again (zfs share -a). */
export async function bootNfs(h: NfsHost): Promise<void> {
  await startNfs(h);
  await waitForNfs(h);
  await shareZfs(h);
}

/** `zfs share -a` in the host: every dataset whose sharenfs is not off is exported again. */
export async function shareZfs(h: NfsHost): Promise<ExecResult> {
  const r = await labExec(h, ['zfs', 'share', '-a']);
  if (r.code !== 0) throw new Error(`${h.name}: zfs share -a: ${(r.stderr || r.stdout).trim()}`);
  return r;
}
