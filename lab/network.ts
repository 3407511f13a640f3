/**
 * The lab's two networks, both from one index I, as in the runbook: management and storage.
 *
 *   management  bridge ezlab<I>, 10.213.<I>.0/24, gateway 10.213.<I>.1 in the root namespace; host j
 *               is 10.213.<I>.<11+j> on its eth0 (veth ezl<I>v<j>), configured by the host's own
 *               /etc/network/interfaces.
 *   storage     bridge ezsan<I>, 10.214.<I>.0/24, no address in the root namespace (an isolated
 *               storage network: the machine routes it nowhere, an `unreachable` route says so
 *               rather than letting the default route take it out); host j's eth1 (veth ezs<I>v<j>) comes up without an address: the
 *               product's configureStorage gives it 10.214.<I>.<41+j>. ESXi host vh<j+1>'s vmkernel
 *               NFS client is 10.214.<I>.<11+j> (netns ezlab<I>-vh<j+1>, veth ezs<I>h<j>), an
 *               outsider on no access list 10.214.<I>.250 (netns ezlab<I>-outsider, veth ezs<I>o).
 *
 * The index I is 0 for the default lab dir and derived from the dir's path otherwise (then the next
 * free one), so several labs (a dev lab and a test lab) can run side by side. A bridge is owned by
 * the lab whose dir is in its alias ("esxi-zfs-lab:<dir>"); nothing without that alias is touched.
 */
import { createHash } from 'node:crypto';
import { labExec, must, run, type ExecResult, type HostNs } from './exec';
import { DEFAULT_LAB_DIR } from './state';
import { links, netnsNames, overlaps, usedPrefixes } from './sys';

export const PREFIX_LENGTH = 24;
const HOST_OFFSET = 11;
const STORAGE_HOST_OFFSET = 41;
const VMKERNEL_OFFSET = 11;
const OUTSIDER_HOST = 250;

export const bridgeName = (index: number) => `ezlab${index}`;
export const netnsPrefix = (index: number) => `ezlab${index}-`;
export const vethName = (index: number, j: number) => `ezl${index}v${j}`;
export const subnetOf = (index: number) => `10.213.${index}.0/${PREFIX_LENGTH}`;
export const gatewayOf = (index: number) => `10.213.${index}.1`;
export const addressOf = (index: number, j: number) => `10.213.${index}.${HOST_OFFSET + j}`;
export const bridgeAlias = (dir: string) => `esxi-zfs-lab:${dir}`;

export const storageBridgeName = (index: number) => `ezsan${index}`;
export const storageSubnetOf = (index: number) => `10.214.${index}.0/${PREFIX_LENGTH}`;
export const storageVethName = (index: number, j: number) => `ezs${index}v${j}`;
/** The address the lab inventory asks configureStorage to put on host j's eth1 (the lab does not). */
export const storageAddressOf = (index: number, j: number) => `10.214.${index}.${STORAGE_HOST_OFFSET + j}`;
/** The vmkernel NFS client address of ESXi host vh<j+1>, the hypervisor of lab host j. */
export const vmkernelAddressOf = (index: number, j: number) => `10.214.${index}.${VMKERNEL_OFFSET + j}`;
export const outsiderAddressOf = (index: number) => `10.214.${index}.${OUTSIDER_HOST}`;
export const hypervisorVethName = (index: number, j: number) => `ezs${index}h${j}`;
export const outsiderVethName = (index: number) => `ezs${index}o`;

/** The lab bridges of an index, and whether a link is one of the lab's veths of that index. */
export const bridgesOf = (index: number) => [bridgeName(index), storageBridgeName(index)];
export const isLabVeth = (index: number, ifname: string) =>
  new RegExp(`^(ezl${index}v\\d+|ezs${index}[vh]\\d+|ezs${index}o)$`).test(ifname);

function preferredIndex(dir: string): number {
  if (dir === DEFAULT_LAB_DIR) return 0;
  return 1 + (parseInt(createHash('sha256').update(dir).digest('hex').slice(0, 8), 16) % 254);
}

/**
 * Finds a free index (neither subnet routed here, no namespace or bridge of that index) and claims
 * it by creating its management bridge (creation is the atomic claim), then its storage bridge.
 */
export async function claimNetwork(dir: string, recordIndex: (index: number) => void): Promise<number> {
  const used = await usedPrefixes();
  const linkNames = new Set((await links()).map((l) => l.ifname));
  const first = preferredIndex(dir);
  const order = [first, ...Array.from({ length: 255 }, (_, i) => i).filter((i) => i !== first)];
  for (const index of order) {
    if (used.some((u) => overlaps(u.prefix, subnetOf(index)) || overlaps(u.prefix, storageSubnetOf(index)))) continue;
    if (netnsNames().some((n) => n.startsWith(netnsPrefix(index)))) continue;
    if (linkNames.has(storageBridgeName(index))) continue;
    const bridge = bridgeName(index);
    recordIndex(index); // before creating it, so that a crash right after leaves no unknown bridge
    const created = await run('ip', ['link', 'add', 'name', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    if (created.code !== 0) continue;
    await must('ip', ['link', 'set', 'dev', bridge, 'alias', bridgeAlias(dir)]);
    await must('ip', ['addr', 'add', `${gatewayOf(index)}/${PREFIX_LENGTH}`, 'dev', bridge]);
    await must('ip', ['link', 'set', 'dev', bridge, 'up']);
    const storage = storageBridgeName(index);
    await must('ip', ['link', 'add', 'name', storage, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    await must('ip', ['link', 'set', 'dev', storage, 'alias', bridgeAlias(dir)]);
    await must('ip', ['link', 'set', 'dev', storage, 'up']);
    await must('ip', ['route', 'add', 'unreachable', storageSubnetOf(index)]);
    return index;
  }
  throw new Error('no free lab network: every 10.213.<I>.0/24 or 10.214.<I>.0/24 collides with a route or another lab');
}

/** Removes what claimNetwork made outside links: the storage subnet's unreachable route. */
export async function releaseNetwork(index: number): Promise<void> {
  await run('ip', ['route', 'del', 'unreachable', storageSubnetOf(index)]);
}

/**
 * A host's network namespace with its two NICs and no address: eth0 on the management bridge (the
 * host's own ifupdown configures it), eth1 on the storage bridge, up, unconfigured.
 */
export async function addHostNetwork(h: { index: number; netns: string; veth: string; storageVeth: string }): Promise<void> {
  const { index, netns, veth, storageVeth } = h;
  await must('ip', ['netns', 'add', netns]);
  await must('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  await must('ip', ['link', 'set', 'dev', veth, 'master', bridgeName(index), 'up']);
  await must('ip', ['link', 'add', storageVeth, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', netns]);
  await must('ip', ['link', 'set', 'dev', storageVeth, 'master', storageBridgeName(index), 'up']);
  await must('ip', ['-n', netns, 'link', 'set', 'dev', 'eth1', 'up']);
}

/** A namespace with one NIC on the storage bridge, named `ifname` inside, holding `address`, lo up. */
export async function addStorageClientNetwork(c: { index: number; netns: string; veth: string; ifname: string; address: string }): Promise<void> {
  const { index, netns, veth, ifname, address } = c;
  await must('ip', ['netns', 'add', netns]);
  await must('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', ifname, 'netns', netns]);
  await must('ip', ['link', 'set', 'dev', veth, 'master', storageBridgeName(index), 'up']);
  await must('ip', ['-n', netns, 'addr', 'add', `${address}/${PREFIX_LENGTH}`, 'dev', ifname]);
  await must('ip', ['-n', netns, 'link', 'set', 'dev', ifname, 'up']);
  await must('ip', ['-n', netns, 'link', 'set', 'dev', 'lo', 'up']);
}

/**
 * What a booting host does for its network: /run/network (made inside its mount namespace, whose
 * /run is its own), then `ifup -a` from its own /etc/network/interfaces.
 */
export async function startNetwork(h: HostNs): Promise<ExecResult> {
  const made = await labExec(h, ['mkdir', '-p', '/run/network']);
  if (made.code !== 0) return made;
  return labExec(h, ['ifup', '-a']);
}
