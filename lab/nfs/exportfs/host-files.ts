/** The host's files as exportfs uses them: read, written atomically, one exportfs at a time. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RenderContext } from './ganesha';
import { ETAB_LOCK, ExportfsError } from './paths';

export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function isMountPoint(p: string): boolean {
  try {
    return p === path.dirname(p) || fs.statSync(p).dev !== fs.statSync(path.dirname(p)).dev;
  } catch {
    return false;
  }
}

export function readIds(file: string): RenderContext['ids'] {
  const text = readText(file);
  return text ? (JSON.parse(text) as RenderContext['ids']) : { next: 1, byPath: {} };
}

export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

export const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** One exportfs at a time per host (zfs share -a and a concurrent zfs set would race on etab). */
export function withLock(lock: string, fn: () => void): void {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readText(lock).trim());
      if (holder > 0 && !processAlive(holder)) fs.rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new ExportfsError(`${ETAB_LOCK} is held by pid ${holder}`);
      else pause(10);
    }
  }
  try {
    fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

export function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
