/**
 * The lab from a terminal. Functions for the operator CLI to call, and a standalone entry:
 *
 *   node --import tsx lab/cli.ts up [--hosts N | --names a,b,c] [--data-disks N] [--spare-disk] [--dir DIR]
 *   node --import tsx lab/cli.ts status [--dir DIR]      exit 0 when every host is healthy, 1 otherwise
 *   node --import tsx lab/cli.ts reboot HOST [--dir DIR] exit 0 when the host answers SSH again, 1 otherwise
 *   node --import tsx lab/cli.ts down [--dir DIR]
 */
import { parseArgs } from 'node:util';
import {
  DEFAULT_LAB_DIR, labDown, labReboot, labStatus, labUp, type LabHostStatus, type LabOptions, type LabState,
} from './lab';

export type Print = (line: string) => void;

function hostLines(state: LabState, health?: Map<string, LabHostStatus>): string[] {
  const width = Math.max(...state.hosts.map((h) => h.name.length));
  return state.hosts.map((h) => {
    const s = health?.get(h.name);
    const flags = s
      ? `sshd=${s.sshdAlive ? 'alive' : 'DEAD'}(${h.pids.sshd}) zfs=${s.zfsAlive ? 'alive' : 'DEAD'}(${h.pids.zfsFuse}) ssh=${s.reachable ? 'reachable' : 'UNREACHABLE'}`
      : `sshd=${h.pids.sshd} zfs-fuse=${h.pids.zfsFuse}`;
    return `${h.name.padEnd(width)}  ${h.address.padEnd(15)}  ${h.fingerprint}  ${flags}`;
  });
}

function footer(state: LabState): string[] {
  const first = state.hosts[0];
  const clients = [...state.hypervisors, state.outsider].map((c) => `${c.name} ${c.address}`).join(', ');
  return [
    `bridge ${state.bridge} ${state.gateway}/${state.subnet.split('/')[1]}, lab dir ${state.dir}`,
    `storage bridge ${state.storageBridge} ${state.storageSubnet} (eth1 of each host, no address yet); ${clients}`,
    `inventory ${state.inventoryFile}`,
    first
      ? `ssh -i ${state.privateKeyFile} -o UserKnownHostsFile=${state.knownHostsFile} -o StrictHostKeyChecking=yes root@${first.address}`
      : '',
  ].filter(Boolean);
}

export async function up(opts: LabOptions = {}, print: Print = console.log): Promise<LabState> {
  const started = Date.now();
  const state = await labUp({ ...opts, report: (line) => print(`lab up: ${line}`) });
  const { hosts } = await labStatus({ dir: state.dir });
  print(`lab up: ${state.hosts.length} host(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const line of hostLines(state, new Map(hosts.map((h) => [h.name, h])))) print(line);
  for (const line of footer(state)) print(line);
  return state;
}

export async function down(opts: { dir?: string } = {}, print: Print = console.log): Promise<void> {
  const started = Date.now();
  await labDown(opts);
  print(`lab down: ${opts.dir ?? DEFAULT_LAB_DIR} removed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Prints the lab's hosts and their health; returns 0 when every host is healthy, 1 otherwise. */
export async function status(opts: { dir?: string } = {}, print: Print = console.log): Promise<number> {
  const { state, hosts } = await labStatus(opts);
  if (!state) {
    print(`no lab in ${opts.dir ?? DEFAULT_LAB_DIR}`);
    return 1;
  }
  for (const line of hostLines(state, new Map(hosts.map((h) => [h.name, h])))) print(line);
  for (const line of footer(state)) print(line);
  return hosts.every((h) => h.sshdAlive && h.zfsAlive && h.reachable) ? 0 : 1;
}

/** Reboots one host; returns 0 when it answers SSH on its address again, 1 otherwise. */
export async function reboot(opts: { dir?: string; host: string }, print: Print = console.log): Promise<number> {
  const r = await labReboot(opts);
  const seconds = (r.ms / 1000).toFixed(1);
  print(r.answers
    ? `lab reboot: ${r.host} rebooted in ${seconds} s, answers SSH on ${r.address}`
    : `lab reboot: ${r.host} rebooted in ${seconds} s but does NOT answer on ${r.address}`);
  print(`  addresses: ${r.addresses.join(', ') || 'none'}`);
  for (const note of r.notes) print(`  ${note}`);
  return r.answers ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      hosts: { type: 'string' },
      names: { type: 'string' },
      dir: { type: 'string' },
      'data-disks': { type: 'string' },
      'spare-disk': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  const arity = command === 'reboot' ? 2 : 1;
  if (values.help || !command || positionals.length !== arity || !['up', 'down', 'status', 'reboot'].includes(command)) {
    console.error('usage: lab/cli.ts up [--hosts N | --names a,b] [--data-disks N] [--spare-disk] [--dir DIR] | down [--dir DIR] | status [--dir DIR] | reboot HOST [--dir DIR]');
    return 2;
  }
  const dir = values.dir;
  if (command === 'up') {
    const [hosts, dataDisks] = [values.hosts, values['data-disks']].map((v) => (v === undefined ? undefined : Number(v)));
    for (const [flag, value, n] of [['hosts', values.hosts, hosts], ['data-disks', values['data-disks'], dataDisks]] as const) {
      if (n !== undefined && !Number.isInteger(n)) {
        console.error(`--${flag} must be a number, not '${value}'`);
        return 2;
      }
    }
    const names = values.names?.split(',').map((n) => n.trim()).filter(Boolean);
    await up({ hosts, names, dir, dataDisks, spareDisk: values['spare-disk'] });
    return 0;
  }
  if (command === 'reboot') return reboot({ dir, host: positionals[1]! });
  if (command === 'down') {
    await down({ dir });
    return 0;
  }
  return status({ dir });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`lab: ${error.message}`);
      process.exit(1);
    },
  );
}
