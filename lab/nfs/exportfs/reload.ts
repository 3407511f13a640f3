/** ganesha's reload (SIGHUP) and its result, read from its log. */
import * as fs from 'node:fs';
import { pause, processAlive, readText } from './host-files';
import { ExportfsError, GANESHA_EXE, GANESHA_LOG, GANESHA_PID } from './paths';

/**
 * SIGHUP makes ganesha re-read its exports; the log then says "Reread exports complete", and any
 * config error follows it at once (or replaces it, when the file does not parse). No ganesha
 * running: nothing to do, it reads the config when it starts.
 */
export function reloadGanesha(at: (p: string) => string): void {
  const pid = Number(readText(at(GANESHA_PID)).trim());
  if (!(pid > 0) || !processAlive(pid)) return;
  try {
    // This host's ganesha: a pid file left behind may name another host's by now.
    if (fs.readlinkSync(`/proc/${pid}/exe`) !== GANESHA_EXE || fs.readlinkSync(`/proc/${pid}/ns/mnt`) !== fs.readlinkSync('/proc/self/ns/mnt')) return;
  } catch {
    return;
  }
  const log = at(GANESHA_LOG);
  const start = fs.existsSync(log) ? fs.statSync(log).size : 0;
  process.kill(pid, 'SIGHUP');
  const deadline = Date.now() + 20_000;
  let text = '';
  while (!/Reread exports complete|Export block error|Export defaults block error|Error while parsing/.test(text)) {
    if (Date.now() > deadline) throw new ExportfsError(`ganesha (pid ${pid}) did not finish reloading its exports in 20 s; see ${GANESHA_LOG}`);
    pause(10);
    text = readFrom(log, start);
  }
  pause(50);
  const errors = readFrom(log, start).split('\n').filter((l) => /:(CONFIG|EXPORT) :(CRIT|MAJ|FATAL) :/.test(l));
  if (errors.length > 0) throw new ExportfsError(`ganesha refused the new exports:\n${errors.join('\n')}`);
}

function readFrom(file: string, offset: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
