/**
 * A lab host's two daemons, sshd and zfs-fuse: started in the host's namespaces and tracked by pid,
 * checked for health, and waited for until they answer. Other daemons of a host (the NFS server)
 * register here to be stopped and started with them on a reboot.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { HOST_ENV, labExec, must, nsenterArgs, type HostNs } from './exec';
import { zfsFusePreload } from './nfs/tools';
import { daemonEnv, sessionClockOptions, type ClockHost } from './clock';
import type { LabHostState } from './state';
import { isAlive, mountsInNamespace, processExe, processNs, unmountInNamespace } from './sys';

export const SSHD = '/usr/sbin/sshd';
export const ZFS_FUSE = '/usr/sbin/zfs-fuse';

type DaemonHost = HostNs & ClockHost & { logs: LabHostState['logs'] };

/** Whether pid is alive, runs exe and lives in the host's mount namespace (so is the host's daemon). */
export function daemonOk(pid: number, exe: string, mntIno: number): boolean {
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

/** Checks the host's sshd_config (sshd -t), then starts zfs-fuse and sshd in its namespaces. */
export async function startDaemons(h: DaemonHost): Promise<LabHostState['pids']> {
  await must('nsenter', [...nsenterArgs(h), SSHD, '-t', '-f', '/etc/ssh/sshd_config'], { env: HOST_ENV });
  const zfsFuse = startZfsFuse(h);
  const sshd = startSshd(h);
  return { sshd, zfsFuse };
}

// In the foreground (--no-daemon) zfs-fuse writes no pid file: the spawned pid is the daemon.
// Its NFS preload (lab/nfs/zfs-fuse-nfs.c) comes as open file 3, as its path may not be visible in
// the host; `env` sets LD_PRELOAD for zfs-fuse alone, not for nsenter. A host whose clock is set
// off (lab/clock.ts) runs both daemons, and sshd's sessions, under libfaketime.
export const startZfsFuse = (h: DaemonHost) =>
  spawnDaemon([...nsenterArgs(h), 'env', ...daemonEnv(h, ['/proc/self/fd/3']), ZFS_FUSE, '--no-daemon', '--no-kstat-mount'], h.logs.zfsFuse, zfsFusePreload());
export const startSshd = (h: DaemonHost) =>
  spawnDaemon([...nsenterArgs(h), 'env', ...daemonEnv(h), SSHD, '-D', '-e', '-f', '/etc/ssh/sshd_config', ...sessionClockOptions(h)], h.logs.sshd);

/** A zfs-fuse that died leaves its FUSE mounts behind ("Transport endpoint is not connected"). */
export async function unmountDeadZfs(h: HostNs): Promise<void> {
  const stale = (await mountsInNamespace(h.mountNs)).filter((m) => m.fsType === 'fuse.zfs').map((m) => m.mountPoint);
  await unmountInNamespace(h.mountNs, stale);
}

/**
 * stderr without zfs-fuse's complaints that it cannot share: it shares by running exportfs, which a
 * lab host lacks (no kernel NFS server), so every import of a pool with sharenfs set says so.
 */
export const withoutShareErrors = (stderr: string): string =>
  stderr.split('\n').filter((l) => !/^cannot share '.*': +exportfs failed$/.test(l.trim())).join('\n').trim();

/** Starts nsenter ARGS detached, its output appended to logFile (file3: the child's fd 3); returns its pid. */
export function spawnDaemon(args: string[], logFile: string, file3?: string): number {
  const fd = fs.openSync(logFile, 'a');
  const extra = file3 ? [fs.openSync(file3, 'r')] : [];
  try {
    const child = spawn('nsenter', args, { detached: true, stdio: ['ignore', fd, fd, ...extra], env: HOST_ENV, cwd: '/' });
    child.on('error', () => undefined);
    child.unref();
    if (!child.pid) throw new Error(`could not start nsenter ${args.join(' ')}`);
    return child.pid;
  } finally {
    for (const f of [fd, ...extra]) fs.closeSync(f);
  }
}

function logTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function waitForZfs(h: LabHostState, timeoutMs = 30_000): Promise<void> {
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

export async function waitForSshd(h: LabHostState, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(h.pids.sshd)) throw new Error(`${h.name}: sshd exited:\n${logTail(h.logs.sshd)}`);
    if ((await sshBanner(h.address, 500)).startsWith('SSH-2.0-') && processExe(h.pids.sshd) === SSHD) return;
    if (Date.now() > deadline) throw new Error(`${h.name}: sshd did not answer on ${h.address}:22 in ${timeoutMs} ms:\n${logTail(h.logs.sshd)}`);
    await sleep(50);
  }
}
