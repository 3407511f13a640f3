/** The operator CLI: `esxi-zfs <command>`. Each command lives in its own module under scripts/commands. */
import { Command } from 'commander';
import { registerValidate } from './commands/validate';
import { registerTrust } from './commands/trust';
import { registerWorker } from './commands/worker';
import { registerProbe } from './commands/probe';
import { registerReplicate } from './commands/replicate';
import { registerLab } from './commands/lab';
import { registerCloneReplica } from './commands/clone-replica';
import { registerSchedules } from './commands/schedules';
import { registerStatus } from './commands/status';

export function buildProgram(): Command {
  const program = new Command('esxi-zfs')
    .description('Build and run all-in-one ZFS storage on VMware ESXi with Temporal workflows')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true });
  registerValidate(program);
  registerTrust(program);
  registerWorker(program);
  registerProbe(program);
  registerReplicate(program);
  registerCloneReplica(program);
  registerLab(program);
  registerSchedules(program);
  registerStatus(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
