/** The operator CLI: `esxi-zfs <command>`. Each command lives in its own module under scripts/commands. */
import { Command } from 'commander';
import { registerValidate } from './commands/validate';
import { packageVersion, RUNNING_FROM_SOURCE } from '../workers/package-root';

function newProgram(): Command {
  return new Command('esxi-zfs')
    .description('Build and run all-in-one ZFS storage on VMware ESXi with Temporal workflows')
    .version(packageVersion())
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true });
}

export function buildProgram(): Command {
  // The other commands' modules load Temporal's client, ssh2 and the activities: required here,
  // not at the top, so that `esxi-zfs validate` starts without them (0.9 s instead of 2.3 s).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const program = newProgram();
  registerValidate(program);
  (require('./commands/configure') as typeof import('./commands/configure')).registerConfigure(program);
  (require('./commands/passthrough') as typeof import('./commands/passthrough')).registerPassthrough(program);
  (require('./commands/build-vm') as typeof import('./commands/build-vm')).registerBuildVm(program);
  (require('./commands/datastores') as typeof import('./commands/datastores')).registerDatastores(program);
  (require('./commands/recover-datastores') as typeof import('./commands/recover-datastores')).registerRecoverDatastores(program);
  (require('./commands/provision') as typeof import('./commands/provision')).registerProvision(program);
  (require('./commands/trust') as typeof import('./commands/trust')).registerTrust(program);
  (require('./commands/worker') as typeof import('./commands/worker')).registerWorker(program);
  (require('./commands/codec-server') as typeof import('./commands/codec-server')).registerCodecServer(program);
  (require('./commands/probe') as typeof import('./commands/probe')).registerProbe(program);
  (require('./commands/replicate') as typeof import('./commands/replicate')).registerReplicate(program);
  (require('./commands/clone-replica') as typeof import('./commands/clone-replica')).registerCloneReplica(program);
  (require('./commands/failover') as typeof import('./commands/failover')).registerFailover(program);
  if (RUNNING_FROM_SOURCE) registerLab(program);
  (require('./commands/schedules') as typeof import('./commands/schedules')).registerSchedules(program);
  (require('./commands/status') as typeof import('./commands/status')).registerStatus(program);
  /* eslint-enable @typescript-eslint/no-require-imports */
  return program;
}

/**
 * `esxi-zfs lab`, in a checkout only: the lab needs the repository (the simulator setup.sh builds,
 * the zfs-fuse NFS module compiled from lab/nfs, tsx for its hooks), so the package has no lab. The
 * module is named by a variable to keep lab/ out of the compiled package.
 */
function registerLab(program: Command): void {
  const labCommands = './commands/lab';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require(labCommands) as { registerLab(program: Command): void }).registerLab(program);
}

export async function main(argv: string[]): Promise<void> {
  // `validate` (and `--version`) need only themselves: the same command, registered alone.
  if (argv[2] === 'validate' || argv[2] === '--version' || argv[2] === '-V') {
    const program = newProgram();
    registerValidate(program);
    await program.parseAsync(argv);
    return;
  }
  await buildProgram().parseAsync(argv);
}
