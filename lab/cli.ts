/**
 * The lab from a terminal. Functions for the operator CLI to call, and a standalone entry:
 *
 *   node --import tsx lab/cli.ts up [--hosts N | --names a,b,c] [--dir DIR]
 *   node --import tsx lab/cli.ts status [--dir DIR]      exit 0 when every host is healthy, 1 otherwise
 *   node --import tsx lab/cli.ts down [--dir DIR]
 */
import { parseArgs } from 'node:util';
import { DEFAULT_LAB_DIR, labDown, labStatus, labUp, type LabHostStatus, type LabOptions, type LabState } from './lab';

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
  return [
    `bridge ${state.bridge} ${state.gateway}/${state.subnet.split('/')[1]}, lab dir ${state.dir}`,
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

export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      hosts: { type: 'string' },
      names: { type: 'string' },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command || positionals.length > 1 || !['up', 'down', 'status'].includes(command)) {
    console.error('usage: lab/cli.ts up [--hosts N | --names a,b] [--dir DIR] | down [--dir DIR] | status [--dir DIR]');
    return 2;
  }
  const dir = values.dir;
  if (command === 'up') {
    const hosts = values.hosts === undefined ? undefined : Number(values.hosts);
    if (hosts !== undefined && !Number.isInteger(hosts)) {
      console.error(`--hosts must be a number, not '${values.hosts}'`);
      return 2;
    }
    const names = values.names?.split(',').map((n) => n.trim()).filter(Boolean);
    await up({ hosts, names, dir });
    return 0;
  }
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
