import type { Command } from 'commander';
import { down, reboot, status, up } from '../../lab/cli';
import { esxiHostName, LAB_VSPHERE_PASSWORD_ENV, labVsphereDir, labVsphereUp } from '../../lab/vsphere-lab';

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('the test lab: storage hosts in network and mount namespaces, each with its own sshd and zfs-fuse (root only)');
  lab
    .command('up')
    .description('start the lab (idempotent; cleans up what a crashed lab left); writes its state and inventory under the lab dir')
    .option('--hosts <n>', 'number of storage hosts', (v) => Number.parseInt(v, 10), 2)
    .option('--names <names>', 'comma-separated host names (hyphens welcome), instead of test-san-01, test-san-02, ...')
    .option('--data-disks <n>', 'data disks per host: c8t1d0 2 GiB, c8t2d0 2 GiB + 2 MiB, ... (a standing lab with other disks is rebuilt)', (v) => Number.parseInt(v, 10), 1)
    .option('--spare-disk', 'one more disk per host, c10t0d0, in no pool of the inventory')
    .option('--dir <dir>', 'lab directory (default .data/lab)')
    .option('--vsphere', 'and the vSphere simulator: one ESXi host vhN per storage host, whose storage VM (not built yet: its sshd stopped) is that host; the inventory gets the endpoint, every share mounted on every ESXi host')
    .option('--reboot-seconds <s>', 'with --vsphere: how long a simulated host reboot lasts', (v) => Number.parseInt(v, 10), 5)
    .action(async (options: { hosts: number; names?: string; dataDisks: number; spareDisk?: boolean; dir?: string; vsphere?: boolean; rebootSeconds: number }) => {
      const state = await up({ hosts: options.hosts, names: options.names?.split(','), dataDisks: options.dataDisks, spareDisk: options.spareDisk, dir: options.dir });
      if (!options.vsphere) return;
      // Every share on every ESXi host, as the runbook mounts them: a failover has a survivor to mount the copy on.
      const sim = await labVsphereUp(state, { rebootSeconds: options.rebootSeconds, mountEverywhere: true });
      console.log(`lab up: vSphere simulator ${sim.url} (pid ${sim.pid}), thumbprint ${sim.thumbprint}; ESXi hosts ${state.hosts.map((_, j) => esxiHostName(j)).join(', ')}`);
      console.log(`lab up: the worker needs ${LAB_VSPHERE_PASSWORD_ENV}=$(cat ${labVsphereDir(state.dir)}/password)`);
    });
  lab
    .command('down')
    .description('stop every lab process and remove its namespaces, mounts and files')
    .option('--dir <dir>', 'lab directory (default .data/lab)')
    .action(async (options: { dir?: string }) => {
      await down({ dir: options.dir });
    });
  lab
    .command('reboot <host>')
    .description("reboot one storage host: its daemons stop, its live network goes, it starts again from its own /etc/network/interfaces, zpool.cache and sshd_config; exit 1 when it does not answer SSH on its address")
    .option('--dir <dir>', 'lab directory (default .data/lab)')
    .action(async (host: string, options: { dir?: string }) => {
      process.exitCode = await reboot({ dir: options.dir, host });
    });
  lab
    .command('status')
    .description('each host: address, host key fingerprint, sshd and zfs-fuse alive, SSH reachable')
    .option('--dir <dir>', 'lab directory (default .data/lab)')
    .action(async (options: { dir?: string }) => {
      process.exitCode = await status({ dir: options.dir });
    });
}
