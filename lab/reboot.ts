/**
 * Rebooting one lab host like a VM: its processes stop (the NFS server first, then sshd,
 * then zfs-fuse after `zfs umount -a`, as Debian's init script does, then everything else left in
 * its namespaces), its live network state goes (addresses, routes, links down, links it made
 * deleted, /run/network emptied), and it starts again from its own persistent configuration only:
 * `ifup -a`, zfs-fuse (pools from its zpool.cache) and `zfs mount -a`, the NFS server and `zfs share -a`, sshd. Its
 * disks, /etc and pools stay. When its configuration no longer gives it its management address,
 * the reboot still finishes and says that the host does not answer there: the lock-out a product
 * must never cause.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { bootNfs, stopNfs } from './nfs/server';
import {
  daemonOk, sshBanner, SSHD, startSshd, startZfsFuse, unmountDeadZfs, waitForZfs, ZFS_FUSE,
} from './daemons';
import { debug, labExec, run } from './exec';
import { startNetwork } from './network';
import { readJson, resolveDir, statePath, withLock, writeJson, type LabHostState, type LabState } from './state';
import { isAlive, pidsInNamespaces, processExe, terminate } from './sys';

export interface RebootReport {
  host: string;
  /** The management address the host should answer SSH on. */
  address: string;
  /** Whether sshd answers on that address after the boot. */
  answers: boolean;
  /** The host's IPv4 addresses after the boot, like "eth0 10.213.5.11/24". */
  addresses: string[];
  /** What went wrong or deserves a word: failed boot steps, processes stopped that nothing restarts. */
  notes: string[];
  /** From the first stop to the end of the boot. */
  ms: number;
  /** The lab with the host's new pids (also written to state.json). */
  state: LabState;
}

/** Mirrors the Debian init script's 12 s wait for zfs-fuse's worker threads. */
const ZFS_STOP_GRACE_MS = 12_000;
const SSH_ANSWER_TIMEOUT_MS = 15_000;
const BOOT_LINKS = new Set(['lo', 'eth0', 'eth1']);

export async function labReboot(opts: { dir?: string; host: string }): Promise<RebootReport> {
  const dir = resolveDir(opts.dir);
  return withLock(dir, async () => {
    const state = readJson<LabState>(statePath(dir));
    if (!state) throw new Error(`no lab in ${dir}`);
    const h = state.hosts.find((x) => x.name === opts.host);
    if (!h) throw new Error(`no host '${opts.host}' in the lab in ${dir} (${state.hosts.map((x) => x.name).join(', ')})`);
    const started = Date.now();
    const notes: string[] = [];
    const step = (what: string) => debug(`reboot ${h.name}: ${what} at ${Date.now() - started} ms`);
    await shutDown(h, notes);
    step('stopped');
    await clearNetwork(h);
    step('network cleared');
    const { pids, addresses, configured } = await boot(h, notes);
    step('booted');
    const host: LabHostState = { ...h, pids };
    const answers = configured && (await sshAnswers(host, SSH_ANSWER_TIMEOUT_MS));
    if (!answers) {
      notes.push(configured
        ? `${h.name} does not answer SSH on ${h.address} within ${SSH_ANSWER_TIMEOUT_MS / 1000} s`
        : `${h.name} does not answer on ${h.address}: its persistent network configuration no longer gives it that address (it has: ${addresses.join(', ') || 'none'})`);
    }
    step(answers ? 'sshd answers' : 'no answer');
    const rebooted: LabState = { ...state, hosts: state.hosts.map((x) => (x === h ? host : x)) };
    writeJson(statePath(dir), rebooted);
    return { host: h.name, address: h.address, answers, addresses, notes, ms: Date.now() - started, state: rebooted };
  });
}

async function shutDown(h: LabHostState, notes: string[]): Promise<void> {
  try {
    await stopNfs(h);
  } catch (error) {
    notes.push(`stopping the NFS server: ${(error as Error).message}`);
  }
  const inHost = (exe: string) => pidsInNamespaces({ mnt: [h.ns.mnt] }).filter((pid) => processExe(pid) === exe);
  await stopAll(inHost(SSHD), h.name, 'sshd');
  const zfs = inHost(ZFS_FUSE);
  if (zfs.length > 0) {
    const unmounted = await labExec(h, ['zfs', 'umount', '-a']);
    if (unmounted.code !== 0) notes.push(`zfs umount -a (stopping anyway): ${unmounted.stderr.trim()}`);
    await stopAll(zfs, h.name, 'zfs-fuse', ZFS_STOP_GRACE_MS);
  }
  // Whatever else runs in the host (SSH sessions, zfs recv, an unregistered daemon) stops too.
  const others = pidsInNamespaces({ mnt: [h.ns.mnt], net: [h.ns.net], uts: [h.ns.uts] });
  if (others.length > 0) notes.push(`also stopped: ${others.map((pid) => `${processExe(pid) ?? '?'} (${pid})`).join(', ')}`);
  await stopAll(others, h.name, 'its other processes');
  await unmountDeadZfs(h);
}

async function stopAll(pids: number[], host: string, what: string, graceMs?: number): Promise<void> {
  const left = await terminate(pids, graceMs);
  if (left.length > 0) throw new Error(`${host}: ${what} would not stop (${left.join(', ')})`);
}

/** What a power cycle loses: every address and route, links down, links made at run time, /run/network. */
async function clearNetwork(h: LabHostState): Promise<void> {
  const ip = async (...args: string[]) => {
    const r = await run('ip', ['-n', h.netns, ...args]);
    if (r.code !== 0) throw new Error(`${h.name}: ip ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const linkNames = (JSON.parse((await ip('-j', 'link', 'show')) || '[]') as { ifname: string }[]).map((l) => l.ifname);
  for (const name of linkNames.filter((n) => !BOOT_LINKS.has(n))) await run('ip', ['-n', h.netns, 'link', 'delete', name]);
  for (const name of linkNames.filter((n) => BOOT_LINKS.has(n))) {
    await ip('addr', 'flush', 'dev', name);
    await ip('link', 'set', 'dev', name, 'down');
  }
  await ip('-4', 'route', 'flush', 'table', 'main');
  await ip('-6', 'route', 'flush', 'table', 'main');
  const emptied = await labExec(h, ['rm', '-rf', '/run/network']);
  if (emptied.code !== 0) throw new Error(`${h.name}: emptying /run/network: ${emptied.stderr.trim()}`);
}

/** `configured`: the persistent configuration gave the host its management address back. */
async function boot(h: LabHostState, notes: string[]): Promise<{ pids: LabHostState['pids']; addresses: string[]; configured: boolean }> {
  const ifup = await startNetwork(h);
  if (ifup.code !== 0) notes.push(`ifup -a failed (exit ${ifup.code}): ${ifup.stderr.trim()}`);
  const addresses = await ipv4Addresses(h.netns);
  const configured = addresses.some((a) => a.split(' ')[1]?.split('/')[0] === h.address);
  const zfsFuse = startZfsFuse(h);
  await waitForZfs({ ...h, pids: { ...h.pids, zfsFuse } });
  const mounted = await labExec(h, ['zfs', 'mount', '-a']);
  if (mounted.code !== 0) notes.push(`zfs mount -a failed: ${mounted.stderr.trim()}`);
  // As Debian's zfs-fuse init script does after the NFS server: `zfs share -a` (zfs-fuse shares
  // through exportfs). The server listens on the management address: without it (a host its
  // configuration locks out, reported by the caller) there is nothing to start it on.
  if (configured) {
    try {
      await bootNfs(h);
    } catch (error) {
      notes.push(`the NFS server or its shares: ${(error as Error).message}`);
    }
  }
  const sshd = startSshd(h);
  return { pids: { sshd, zfsFuse }, addresses, configured };
}

async function ipv4Addresses(netns: string): Promise<string[]> {
  const r = await run('ip', ['-n', netns, '-4', '-j', 'addr', 'show']);
  const links = JSON.parse(r.stdout || '[]') as { ifname: string; addr_info?: { local: string; prefixlen: number }[] }[];
  return links.flatMap((l) => (l.addr_info ?? []).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`));
}

/** Whether the host's sshd answers on its address before the timeout (false at once when sshd died). */
async function sshAnswers(h: LabHostState, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && isAlive(h.pids.sshd)) {
    if ((await sshBanner(h.address, 500)).startsWith('SSH-2.0-') && daemonOk(h.pids.sshd, SSHD, h.ns.mnt)) return true;
    await sleep(50);
  }
  return false;
}
