/**
 * The lab's two NFS artefacts, built on this machine into lab/bin (git-ignored) when missing or
 * older than their source: zfs-fuse's preload library (gcc) and the exportfs stand-in (this
 * repository's TypeScript transpiled to one plain script, so a lab host runs it with bare node).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const NFS_DIR = __dirname;
const BIN_DIR = path.resolve(__dirname, '..', 'bin');

/** Builds out from src with make(tmp) unless out is newer; the rename keeps concurrent builders apart. */
function buildIfStale(src: string, out: string, make: (tmp: string) => void): string {
  const stale = !fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs;
  if (stale) {
    fs.mkdirSync(BIN_DIR, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    try {
      make(tmp);
      fs.renameSync(tmp, out);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  return out;
}

/** lab/bin/zfs-fuse-nfs.so, see zfs-fuse-nfs.c. */
export function zfsFusePreload(): string {
  return buildIfStale(path.join(NFS_DIR, 'zfs-fuse-nfs.c'), path.join(BIN_DIR, 'zfs-fuse-nfs.so'), (tmp) => {
    try {
      execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, path.join(NFS_DIR, 'zfs-fuse-nfs.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(`building zfs-fuse's NFS preload failed (the lab needs gcc: scripts/setup.sh): ${stderr || (error as Error).message}`, { cause: error });
    }
  });
}

/** lab/bin/exportfs.js: exportfs.ts as one CommonJS script (it imports only node: modules). */
export function exportfsScript(): string {
  return buildIfStale(path.join(NFS_DIR, 'exportfs.ts'), path.join(BIN_DIR, 'exportfs.js'), (tmp) => {
    // typescript is a dev dependency, needed only here and only when the source changed.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ts = require('typescript') as typeof import('typescript');
    const source = fs.readFileSync(path.join(NFS_DIR, 'exportfs.ts'), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: 'exportfs.ts',
    });
    fs.writeFileSync(tmp, outputText);
  });
}

/** Whether a running zfs-fuse has the preload mapped (ld.so only warns when it cannot load it). */
export function hasPreload(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes('/zfs-fuse-nfs.so');
  } catch {
    return false;
  }
}
