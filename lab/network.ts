/**
 * The lab's network. A bridge ezlab<I> with gateway 10.213.<I>.1/24 in the root namespace; host j
 * is 10.213.<I>.<11+j> on eth0 of netns ezlab<I>-<name>, joined by veth ezl<I>v<j>. The index I is
 * 0 for the default lab dir and derived from the dir's path otherwise (then the next free one), so
 * several labs (a dev lab and a test lab) can run side by side. A bridge is owned by the lab whose
 * dir is in its alias ("esxi-zfs-lab:<dir>"); nothing without that alias is ever touched.
 */
import { createHash } from 'node:crypto';
import { must, run } from './exec';
import { DEFAULT_LAB_DIR } from './state';
import { netnsNames, overlaps, usedPrefixes } from './sys';

export const PREFIX_LENGTH = 24;
const HOST_OFFSET = 11;

export const bridgeName = (index: number) => `ezlab${index}`;
export const netnsPrefix = (index: number) => `ezlab${index}-`;
export const vethName = (index: number, j: number) => `ezl${index}v${j}`;
export const subnetOf = (index: number) => `10.213.${index}.0/${PREFIX_LENGTH}`;
export const gatewayOf = (index: number) => `10.213.${index}.1`;
export const addressOf = (index: number, j: number) => `10.213.${index}.${HOST_OFFSET + j}`;
export const bridgeAlias = (dir: string) => `esxi-zfs-lab:${dir}`;

function preferredIndex(dir: string): number {
  if (dir === DEFAULT_LAB_DIR) return 0;
  return 1 + (parseInt(createHash('sha256').update(dir).digest('hex').slice(0, 8), 16) % 254);
}

/** Finds a free index and claims it by creating its bridge (creation is the atomic claim). */
export async function claimNetwork(dir: string, recordIndex: (index: number) => void): Promise<number> {
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

/** A host's network namespace, its eth0 (the veth's far end) on the bridge with its address. */
export async function addHostNetwork(h: { index: number; netns: string; veth: string; address: string }): Promise<void> {
  const { index, netns, veth, address } = h;
  await must('ip', ['netns', 'add', netns]);
  await must('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  await must('ip', ['link', 'set', 'dev', veth, 'master', bridgeName(index), 'up']);
  await must('ip', ['-n', netns, 'addr', 'add', `${address}/${PREFIX_LENGTH}`, 'dev', 'eth0']);
  await must('ip', ['-n', netns, 'link', 'set', 'dev', 'eth0', 'up']);
  await must('ip', ['-n', netns, 'link', 'set', 'dev', 'lo', 'up']);
}
