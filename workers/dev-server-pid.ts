/**
 * The embedded dev server's pid file, so that a worker killed without a chance to stop its server
 * (SIGKILL, OOM) does not leave the next worker facing an unknown Temporal on its port. The file
 * records the server's pid and start time and those of the process that started it; a pid counts
 * as our server only while both match and its command line is `temporal server start-dev
 * --db-filename DB` for this db file, never a reused pid. A server whose starter still runs (a
 * second worker on the same data) is left alone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

interface PidRecord {
  pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks since boot when the process started. */
  startTime: string;
  dbFile: string;
  owner: { pid: number; startTime: string };
}


function procStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie (an orphan's zombie waits for whoever reaps it). */
function running(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

const isSameProcess = (p: { pid: number; startTime: string }) => running(p.pid) && procStat(p.pid)?.startTime === p.startTime;

function isOurServer(record: PidRecord, dbFile: string): boolean {
  if (record.dbFile !== dbFile || !isSameProcess(record)) return false;
  try {
    const argv = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0');
    const db = argv.indexOf('--db-filename');
    return argv.includes('start-dev') && db > 0 && argv[db + 1] === dbFile;
  } catch {
    return false;
  }
}

export function writePidFile(file: string, pid: number, dbFile: string): void {
  const startTime = procStat(pid)?.startTime;
  const ownerStart = procStat(process.pid)?.startTime;
  if (startTime === undefined || ownerStart === undefined) return; // no /proc (not Linux): nothing we could verify later
  const record: PidRecord = { pid, startTime, dbFile, owner: { pid: process.pid, startTime: ownerStart } };
  writeFileSync(file, `${JSON.stringify(record)}\n`);
}

export function removePidFile(file: string): void {
  rmSync(file, { force: true });
}

/**
 * Stops the server a previous worker started on `dbFile` and left running (SIGTERM, SIGKILL after
 * `timeoutMs`), and removes a pid file that names no such server. Returns the pid it stopped.
 */
export async function stopLeftoverServer(file: string, dbFile: string, timeoutMs = 10_000): Promise<number | undefined> {
  let record: PidRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    removePidFile(file);
    return undefined;
  }
  if (!isOurServer(record, dbFile)) {
    removePidFile(file);
    return undefined;
  }
  if (isSameProcess(record.owner)) return undefined;
  for (const [signal, waitMs] of [['SIGTERM', timeoutMs], ['SIGKILL', 5_000]] as const) {
    try {
      process.kill(record.pid, signal);
    } catch {
      break; // gone
    }
    const deadline = Date.now() + waitMs;
    while (running(record.pid) && Date.now() < deadline) await sleep(50);
    if (!running(record.pid)) break;
  }
  if (running(record.pid)) throw new Error(`the Temporal dev server (pid ${record.pid}) a previous worker left on ${dbFile} would not stop`);
  removePidFile(file);
  return record.pid;
}
