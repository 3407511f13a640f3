/**
 * The ESXi hosts' storage identities: for lab host j, ESXi host vh<j+1>'s vmkernel NFS client, a
 * network namespace ezlab<I>-vh<j+1> whose vmk1 sits on the storage bridge with the vmkernel address;
 * and one outsider (ezlab<I>-outsider), on the storage network but on no access list, for refusal
 * tests. They hold no private mounts, so `ip netns exec` runs commands in them.
 */
import { HOST_ENV, run, type ExecResult } from './exec';
import {
  addStorageClientNetwork, hypervisorVethName, netnsPrefix, outsiderAddressOf, outsiderVethName, vmkernelAddressOf,
} from './network';
import type { LabState, LabStorageClient } from './state';

export const hypervisorName = (j: number) => `vh${j + 1}`;
export const OUTSIDER = 'outsider';
const VMKERNEL_NIC = 'vmk1';

/** Host names a lab host cannot take: its netns would be a hypervisor's. */
export const isReservedHostName = (name: string) => /^vh\d+$/.test(name) || name === OUTSIDER;

/** One hypervisor per lab host, and the outsider. */
export async function addStorageClients(index: number, hostCount: number): Promise<{ hypervisors: LabStorageClient[]; outsider: LabStorageClient }> {
  const add = async (name: string, address: string, veth: string): Promise<LabStorageClient> => {
    const netns = `${netnsPrefix(index)}${name}`;
    await addStorageClientNetwork({ index, netns, veth, ifname: VMKERNEL_NIC, address });
    return { name, netns, address, veth };
  };
  const hypervisors = await Promise.all(
    Array.from({ length: hostCount }, (_, j) => add(hypervisorName(j), vmkernelAddressOf(index, j), hypervisorVethName(index, j))),
  );
  const outsider = await add(OUTSIDER, outsiderAddressOf(index), outsiderVethName(index));
  return { hypervisors, outsider };
}

/** Runs argv in the network namespace of hypervisor `name` ('vh1', ...) or of the 'outsider'. */
export function inHypervisor(state: LabState, name: string, argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  const client = [...state.hypervisors, state.outsider].find((c) => c.name === name);
  if (!client) throw new Error(`no hypervisor '${name}' in the lab in ${state.dir} (${[...state.hypervisors, state.outsider].map((c) => c.name).join(', ')})`);
  return run('ip', ['netns', 'exec', client.netns, ...argv], { env: HOST_ENV, input: opts.input, timeoutMs: opts.timeoutMs });
}
