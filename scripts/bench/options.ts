/** The benchmark's command line, and the data sizes it implies. */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  sizeMiB: number;
  runs: number;
  noChangeRuns: number;
  sweep: number;
  budgetMs: number;
  json: boolean;
  /** Where to keep the worker, dev server, sshd and zfs-fuse logs. */
  logs: string | undefined;
  /** The dataset: this much random data, then this much of one repeated block. */
  randomMiB: number;
  repeatedMiB: number;
  /** The change between full and incremental: this many MiB overwritten in the random file, at this offset. */
  changeMiB: number;
  changeOffsetMiB: number;
}

const USAGE = 'usage: npm run bench:replication -- [--size-mib 1024] [--runs 5] [--no-change-runs 5] [--sweep 200] [--budget-s 330] [--json] [--logs DIR (keep the worker, dev server, sshd and zfs-fuse logs)]';

const positive = (name: string, text: string | undefined, min = 1): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, not ${text}`);
  return n;
};

/** The options of this process's command line; prints the usage and exits on --help, throws on a bad value. */
export function benchOptions(): BenchOptions {
  const { values: args } = parseArgs({
    options: {
      'size-mib': { type: 'string', default: '1024' },
      runs: { type: 'string', default: '5' },
      'no-change-runs': { type: 'string', default: '5' },
      sweep: { type: 'string', default: '200' },
      'budget-s': { type: 'string', default: '330' },
      json: { type: 'boolean', default: false },
      logs: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (args.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const sizeMiB = positive('size-mib', args['size-mib'], 16);
  const runs = positive('runs', args.runs);
  const noChangeRuns = positive('no-change-runs', args['no-change-runs']);
  const sweep = positive('sweep', args.sweep, 0);
  const budgetMs = positive('budget-s', args['budget-s']) * 1000;
  const randomMiB = Math.floor(sizeMiB / 2);
  const changeMiB = Math.max(1, Math.round(sizeMiB / 10));
  return {
    sizeMiB, runs, noChangeRuns, sweep, budgetMs, json: args.json, logs: args.logs,
    randomMiB,
    repeatedMiB: sizeMiB - randomMiB,
    changeMiB,
    changeOffsetMiB: Math.max(0, Math.floor((randomMiB - changeMiB) / 2)),
  };
}
