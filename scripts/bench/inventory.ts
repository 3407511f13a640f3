/**
 * npm run bench:inventory [-- --size-mb 10 --runs 1 --json --cli PATH]
 *
 * How long `esxi-zfs validate` takes, and its peak memory, on made-up inventories: the runbook
 * example (the CLI's fixed cost), a valid inventory of --size-mb (hosts with storage VMs and
 * datasets, every name unique), as much text full of schema errors (with and without datastores
 * on unknown hosts, whose message lists every host: references.ts), and 600 KB of aliases to
 * lists of unknown hosts (an alias bomb under yaml's alias count). Each run is a child process
 * started as an operator starts it (bin/esxi-zfs.js with its shebang's flags), measured by
 * /usr/bin/time (wall seconds, peak RSS); the median of --runs. Prints a table; with --json the
 * last line is one JSON object. --cli measures another checkout's bin/esxi-zfs.js (before/after).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { aliasedUnknownHosts, inventoryOfErrors, validInventory } from './inventory-files';

const at = process.argv.indexOf('--cli');
const CLI = at >= 0 ? process.argv[at + 1]! : join(__dirname, '../../bin/esxi-zfs.js');
const TIME = '/usr/bin/time';

interface Row {
  name: string;
  bytes: number;
  exit: number | null;
  seconds: number;
  peakRssMiB: number | null;
  outputBytes: number;
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function measure(name: string, file: string, runs: number, dir: string): Row {
  const seconds: number[] = [];
  const rss: number[] = [];
  let exit: number | null = null;
  let outputBytes = 0;
  for (let i = 0; i < runs; i++) {
    const out = join(dir, 'time.txt');
    const hasTime = existsSync(TIME);
    const started = process.hrtime.bigint();
    const run = hasTime
      ? spawnSync(TIME, ['-f', '%e %M', '-o', out, CLI, 'validate', file], { maxBuffer: 1 << 30 })
      : spawnSync(CLI, ['validate', file], { maxBuffer: 1 << 30 });
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    exit = run.status;
    outputBytes = (run.stdout?.length ?? 0) + (run.stderr?.length ?? 0);
    if (hasTime) {
      const [s, kb] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
      seconds.push(s!);
      rss.push(kb! / 1024);
    } else {
      seconds.push(wall);
    }
  }
  return { name, bytes: statSync(file).size, exit, seconds: median(seconds), peakRssMiB: rss.length ? Math.round(median(rss)) : null, outputBytes };
}

function main(): void {
  const sizeMb = option('--size-mb', 10);
  const runs = option('--runs', 1);
  const json = process.argv.includes('--json');
  const dir = mkdtempSync(join(tmpdir(), 'bench-inventory-'));
  try {
    const files: [string, string][] = [
      ['runbook example', join(__dirname, '../../examples/runbook.yaml')],
      [`valid ${sizeMb} MB`, join(dir, 'valid.yaml')],
      [`errors ${sizeMb} MB`, join(dir, 'errors.yaml')],
      [`errors ${sizeMb} MB, hosts known`, join(dir, 'errors-hosts-known.yaml')],
      ['aliases 600 KB', join(dir, 'aliases.yaml')],
    ];
    writeFileSync(files[1]![1], validInventory(sizeMb * 1e6));
    writeFileSync(files[2]![1], inventoryOfErrors(sizeMb * 1e6));
    writeFileSync(files[3]![1], inventoryOfErrors(sizeMb * 1e6, false));
    writeFileSync(files[4]![1], aliasedUnknownHosts(600e3));
    const rows = files.map(([name, file]) => {
      process.stderr.write(`${name}...\n`);
      return measure(name, file, runs, dir);
    });
    const machine = { cpus: cpus().length, loadAverage: loadavg()[0], node: process.version };
    console.log(`inventory                        bytes  exit  seconds  peak RSS MiB  output bytes`);
    for (const r of rows) {
      console.log(`${r.name.padEnd(28)} ${String(r.bytes).padStart(9)}  ${String(r.exit).padStart(4)}  ${r.seconds.toFixed(2).padStart(7)}  ${String(r.peakRssMiB ?? '-').padStart(12)}  ${String(r.outputBytes).padStart(12)}`);
    }
    console.log(`(${machine.cpus} cores, load average ${machine.loadAverage!.toFixed(1)} at the end, node ${machine.node}, median of ${runs} run${runs === 1 ? '' : 's'})`);
    if (json) console.log(JSON.stringify({ runs, machine, rows }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
