/** The operator CLI: `esxi-zfs <command>`. Each command lives in its own module under scripts/commands. */
import { Command } from 'commander';
import { registerValidate } from './commands/validate';

export function buildProgram(): Command {
  const program = new Command('esxi-zfs')
    .description('Build and run all-in-one ZFS storage on VMware ESXi with Temporal workflows')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true });
  registerValidate(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
