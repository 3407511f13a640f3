/**
 * The one place that turns arguments into POSIX shell words. Every value that reaches a remote
 * shell (dataset, host, user, path) passes through `quote`; commands are built with `shellCommand`.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quote(arg: string): string {
  if (arg.length > 0 && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('shellCommand: empty argv');
  return argv.map(quote).join(' ');
}
