/**
 * The lab's two NFS artefacts, built on this machine into lab/bin (git-ignored) when missing or
 * older than their source: zfs-fuse's preload library (gcc) and the exportfs stand-in (this
 * repository's TypeScript transpiled to plain CommonJS modules, so a lab host runs it with bare node).
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
    fs.mkdirSync(path.dirname(out), { recursive: true });
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

/** lab/bin/exportfs/: each module of lab/nfs/exportfs as CommonJS (they import only node: modules and each other); returns its command.js. */
export function exportfsScript(): string {
  const sourceDir = path.join(NFS_DIR, 'exportfs');
  for (const file of fs.readdirSync(sourceDir).filter((f) => f.endsWith('.ts'))) {
    buildIfStale(path.join(sourceDir, file), path.join(BIN_DIR, 'exportfs', file.replace(/\.ts$/, '.js')), (tmp) => {
      // typescript is a dev dependency, needed only here and only when a source changed.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const ts = require('typescript') as typeof import('typescript');
      const { outputText } = ts.transpileModule(fs.readFileSync(path.join(sourceDir, file), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        fileName: file,
      });
      fs.writeFileSync(tmp, outputText);
    });
  }
  return path.join(BIN_DIR, 'exportfs', 'command.js');
}

/** Whether a running zfs-fuse has the preload mapped (ld.so only warns when it cannot load it). */
export function hasPreload(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes('/zfs-fuse-nfs.so');
  } catch {
    return false;
  }
}
