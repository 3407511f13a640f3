import type { Command } from 'commander';
import { down, status, up } from '../../lab/cli';

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('the test lab: storage hosts in network and mount namespaces, each with its own sshd and zfs-fuse (root only)');
  lab
    .command('up')
    .description('start the lab (idempotent; cleans up what a crashed lab left); writes its state and inventory under the lab dir')
    .option('--hosts <n>', 'number of storage hosts', (v) => Number.parseInt(v, 10), 2)
    .option('--names <names>', 'comma-separated host names (hyphens welcome), instead of test-san-01, test-san-02, ...')
    .option('--dir <dir>', 'lab directory (default .data/lab)')
    .action(async (options: { hosts: number; names?: string; dir?: string }) => {
      await up({ hosts: options.hosts, names: options.names?.split(','), dir: options.dir });
    });
  lab
    .command('down')
    .description('stop every lab process and remove its namespaces, mounts and files')
    .option('--dir <dir>', 'lab directory (default .data/lab)')
    .action(async (options: { dir?: string }) => {
      await down({ dir: options.dir });
    });
  lab
    .command('status')
    .description('each host: address, host key fingerprint, sshd and zfs-fuse alive, SSH reachable')
    .option('--dir <dir>', 'lab directory (default .data/lab)')
    .action(async (options: { dir?: string }) => {
      process.exitCode = await status({ dir: options.dir });
    });
}
