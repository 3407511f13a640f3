/**
 * On a target: the receive guard (the forced command of the sources' keys) and the privilege it runs
 * `zfs receive` with. The privilege follows what the host can do, detected, not its OS: `zfs allow`
 * delegation where the pool answers `zfs allow` (illumos, OpenZFS on Linux), else an exact-argument
 * sudo rule (zfs-fuse, whose `zfs allow` is broken). Parents missing on an existing pool are created
 * (zfs receive needs them).
 */
import type { StorageHostRef } from '../../core/hosts';
import { sh } from '../../core/quote';
import { guestProfile } from '../../core/guest/profile';
import { GUARD_PATH, sudoersFile, type TrustChange } from '../../core/trust/shared';
import { TrustConfigError, checkUser } from '../../core/trust/checks';
import { guardScript, normalizeDatasets, receiveParents, receivePrivilege, sudoersText, zfsAllowPlan, type ReceivePrivilege } from '../../core/trust/guard';
import type { Transport } from '../transport';

const TIMEOUT_MS = 60_000;
const ROOT_FILE = { owner: '0:0', uid: 0, dirMode: '755' } as const;

interface Tools {
  zfs: string;
  sudo?: string;
  visudo?: string;
  perl?: string;
}

export async function installReceiveGuard(transport: Transport, host: StorageHostRef, input: { user: string; datasets: string[] }): Promise<TrustChange> {
  const { user } = input;
  checkUser(user);
  const datasets = normalizeDatasets(input.datasets);
  const tools = await findTools(transport, host);
  const parents = await ensureReceiveParents(transport, host, tools.zfs, datasets);
  const privilege = receivePrivilege(await zfsAllowWorks(transport, host, tools.zfs, datasets), host.os);
  if (privilege === 'sudo' && (!tools.sudo || !tools.visudo)) {
    throw new TrustConfigError(`${host.name}: sudo is not installed (Debian package sudo): without zfs allow, the receive guard needs it to run zfs receive as root`);
  }
  const guard = await ensureGuard(transport, host, tools, privilege);
  const grant = privilege === 'sudo'
    ? await ensureSudoRule(transport, host, tools, user, datasets)
    : await ensureDelegation(transport, host, tools.zfs, user, datasets);
  return { changed: [...parents.changed, ...guard, ...grant.changed], warnings: [...parents.warnings, ...grant.warnings] };
}

async function findTools(transport: Transport, host: StorageHostRef): Promise<Tools> {
  const listing = await transport.runOk(host, sh`for c in zfs sudo visudo perl; do p=$(command -v "$c") || p=-; echo "$c $p"; done`, { timeoutMs: TIMEOUT_MS });
  const paths = new Map(listing.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/) as [string, string]));
  const abs = (name: string) => {
    const p = paths.get(name);
    return p && p.startsWith('/') ? p : undefined;
  };
  const zfs = abs('zfs');
  if (!zfs) throw new TrustConfigError(`${host.name}: no zfs command on the PATH of ${host.credential.user}`);
  return { zfs, sudo: abs('sudo'), visudo: abs('visudo'), perl: abs('perl') };
}

async function exists(transport: Transport, host: StorageHostRef, zfs: string, dataset: string): Promise<boolean> {
  return (await transport.run(host, [zfs, 'list', '-H', '-o', 'name', dataset], { timeoutMs: TIMEOUT_MS })).code === 0;
}

async function ensureReceiveParents(transport: Transport, host: StorageHostRef, zfs: string, datasets: string[]): Promise<TrustChange> {
  const changed: string[] = [];
  const warnings: string[] = [];
  for (const parent of receiveParents(datasets)) {
    if (await exists(transport, host, zfs, parent)) continue;
    const pool = parent.split('/')[0]!;
    if (!(await exists(transport, host, zfs, pool))) {
      warnings.push(`pool ${pool} does not exist yet: ${parent} not created; run trust again after configureStorage`);
      continue;
    }
    await transport.runOk(host, [zfs, 'create', '-p', parent], { timeoutMs: TIMEOUT_MS });
    changed.push(`created ${parent} (zfs receive creates the replicas under it)`);
  }
  return { changed, warnings };
}

/** Whether `zfs allow` answers on the pool the first dataset is received into; undefined without one. */
async function zfsAllowWorks(transport: Transport, host: StorageHostRef, zfs: string, datasets: string[]): Promise<boolean | undefined> {
  const pools = [...new Set(datasets.map((d) => d.split('/')[0]!))];
  for (const pool of pools) {
    if (!(await exists(transport, host, zfs, pool))) continue;
    return (await transport.run(host, [zfs, 'allow', pool], { timeoutMs: TIMEOUT_MS })).code === 0;
  }
  return undefined;
}

async function ensureGuard(transport: Transport, host: StorageHostRef, tools: Tools, privilege: ReceivePrivilege): Promise<string[]> {
  const script = guardScript({
    zfs: tools.zfs,
    ...(privilege === 'sudo' ? { sudo: tools.sudo! } : {}),
    ...(guestProfile(host.os).growablePipes && tools.perl ? { perl: tools.perl } : {}),
  });
  const current = await transport.readFile(host, GUARD_PATH);
  const write = await transport.ensureFile(host, GUARD_PATH, script, { ...ROOT_FILE, mode: '755' }, current);
  return [...(write.wrote ? [`${current.exists ? 'updated' : 'installed'} the receive guard ${GUARD_PATH} (${privilege === 'sudo' ? 'sudo rule' : 'zfs allow delegation'})`] : []), ...write.fixes];
}

async function ensureSudoRule(transport: Transport, host: StorageHostRef, tools: Tools, user: string, datasets: string[]): Promise<TrustChange> {
  const file = sudoersFile(user);
  const included = await transport.run(host, ['grep', '-Eq', '^[#@]includedir[[:space:]]+/etc/sudoers\\.d/?[[:space:]]*$', '/etc/sudoers'], { timeoutMs: TIMEOUT_MS });
  if (included.code !== 0) {
    throw new TrustConfigError(`${host.name}: /etc/sudoers does not include /etc/sudoers.d (@includedir /etc/sudoers.d), so ${file} would be ignored`);
  }
  const current = await transport.readFile(host, file);
  if (datasets.length === 0) return removeSudoRule(transport, host, file, current.exists, `${host.name} receives no dataset`);
  const write = await transport.ensureFile(host, file, sudoersText(user, tools.zfs, datasets), { ...ROOT_FILE, mode: '440', validate: [tools.visudo!, '-cf'] }, current);
  const changed = write.wrote ? [`${file}: ${user} may run as root only zfs receive -u [-s] into ${datasets.join(', ')}`] : [];
  return { changed: [...changed, ...write.fixes], warnings: [] };
}

async function ensureDelegation(transport: Transport, host: StorageHostRef, zfs: string, user: string, datasets: string[]): Promise<TrustChange> {
  const warnings: string[] = [];
  const current = new Map<string, string>();
  for (const parent of receiveParents(datasets)) {
    const r = await transport.run(host, [zfs, 'allow', parent], { timeoutMs: TIMEOUT_MS });
    if (r.code === 0) current.set(parent, r.stdout);
    else warnings.push(`${parent}: cannot read its delegations (${r.stderr.trim()})`);
  }
  const changed: string[] = [];
  for (const step of zfsAllowPlan(zfs, user, datasets.filter((d) => current.has(receiveParents([d])[0]!)), current)) {
    await transport.runOk(host, step.argv, { timeoutMs: TIMEOUT_MS });
    changed.push(step.change);
  }
  // A sudo rule from before (the host's zfs could not delegate then) is no longer needed.
  const file = sudoersFile(user);
  const stale = await removeSudoRule(transport, host, file, (await transport.readFile(host, file)).exists, 'zfs allow delegates instead');
  return { changed: [...changed, ...stale.changed], warnings };
}

async function removeSudoRule(transport: Transport, host: StorageHostRef, file: string, present: boolean, why: string): Promise<TrustChange> {
  if (!present) return { changed: [], warnings: [] };
  await transport.runOk(host, ['rm', '-f', file], { timeoutMs: TIMEOUT_MS });
  return { changed: [`removed ${file} (${why})`], warnings: [] };
}
