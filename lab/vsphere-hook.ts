/**
 * The lab's hook for the vSphere simulator (lab/vsphere): a storage VM's power is its lab storage
 * host's sshd. The simulator runs it as `... vsphere-hook.ts --dir LABDIR EVENT ARGS...`:
 *
 *   vm-on VM LABHOST     starts LABHOST's sshd in its namespaces (if not running) and waits until it answers
 *   vm-off VM LABHOST    stops every sshd of LABHOST (the daemon and its sessions)
 *   host-down HOST, host-up HOST   nothing more: the storage VM's own vm-off came first
 *
 * state.json gets the new sshd pid, under the lab's lock. Exit 0 done, 1 failed, 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { daemonOk, SSHD, startSshd, waitForSshd } from './daemons';
import { readJson, resolveDir, statePath, withLock, writeJson, type LabHostState, type LabState } from './state';
import { pidsInNamespaces, processExe, terminate } from './sys';

export type HookEvent = 'vm-on' | 'vm-off' | 'host-down' | 'host-up';

/** The command line the simulator's --hook gets for the lab in dir (absolute paths: it runs from anywhere). */
export function labHookCommand(dir: string): string[] {
  return [process.execPath, '--require', require.resolve('tsx/cjs'), __filename, '--dir', resolveDir(dir)];
}

/**
 * The simulator's hook options for the lab in dir: run only for the events that do something here
 * (each run is a Node process; 4 hosts' host-down and host-up would cost seconds of CPU for nothing).
 */
export function labHook(dir: string): { hook: string[]; hookEvents: HookEvent[] } {
  return { hook: labHookCommand(dir), hookEvents: ['vm-on', 'vm-off'] };
}

export async function runHook(dir: string, event: string, args: string[]): Promise<string> {
  if ((event === 'vm-on' || event === 'vm-off') && args.length === 2) {
    const [vm, labHost] = args as [string, string];
    return withLock(resolveDir(dir), () => (event === 'vm-on' ? startHost(dir, labHost) : stopHost(dir, labHost)).then((what) => `${vm}: ${what}`));
  }
  if ((event === 'host-down' || event === 'host-up') && args.length === 1) return `${args[0]}: ${event}`;
  throw new UsageError(`unknown event or arguments: ${[event, ...args].join(' ')}`);
}

class UsageError extends Error {}

function labHostOf(dir: string, name: string): { state: LabState; host: LabHostState } {
  const state = readJson<LabState>(statePath(resolveDir(dir)));
  if (!state) throw new Error(`no lab in ${resolveDir(dir)}`);
  const host = state.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no lab host '${name}' in ${state.dir} (${state.hosts.map((h) => h.name).join(', ')})`);
  return { state, host };
}

async function startHost(dir: string, name: string): Promise<string> {
  const { state, host } = labHostOf(dir, name);
  if (daemonOk(host.pids.sshd, SSHD, host.ns.mnt)) return `${name}'s sshd (${host.pids.sshd}) already runs`;
  const started: LabHostState = { ...host, pids: { ...host.pids, sshd: startSshd(host) } };
  writeJson(statePath(state.dir), { ...state, hosts: state.hosts.map((h) => (h === host ? started : h)) });
  await waitForSshd(started);
  return `${name}'s sshd (${started.pids.sshd}) answers on ${host.address}`;
}

async function stopHost(dir: string, name: string): Promise<string> {
  const { host } = labHostOf(dir, name);
  const sshds = pidsInNamespaces({ mnt: [host.ns.mnt] }).filter((pid) => processExe(pid) === SSHD);
  const left = await terminate(sshds);
  if (left.length > 0) throw new Error(`${name}: sshd would not stop (${left.join(', ')})`);
  return `${name}'s sshd stopped (${sshds.length} process(es))`;
}

if (require.main === module) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' } } });
  const [event, ...args] = positionals;
  if (!values.dir || !event) {
    console.error('usage: vsphere-hook.ts --dir LABDIR EVENT ARGS...');
    process.exit(2);
  }
  runHook(values.dir, event, args).then(
    (line) => console.log(line),
    (error: Error) => {
      console.error(`vsphere-hook: ${error.message}`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
