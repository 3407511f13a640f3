/**
 * A lab host's wall clock set off from the machine's, as a VM whose clock drifted or whose NTP
 * failed: the reliability suite's clock-skew faults. Linux time namespaces do not shift
 * CLOCK_REALTIME, so the host's daemons run under libfaketime (Debian's faketime package): zfs-fuse
 * (which stamps a snapshot's `creation`), sshd, and through sshd's SetEnv every SSH session (`date`
 * in a session shows the host's time). Only the wall clock moves: FAKETIME_DONT_FAKE_MONOTONIC
 * keeps timeouts and timers as they are. The product is not told; it meets the skew as it would on
 * a real host.
 *
 * The offset is the host's "hardware clock": a file in its state dir (hosts/NAME/clock-offset), not
 * visible inside the host, read whenever a daemon starts (a build, a repair, a reboot). It takes
 * effect at the next boot: labSetClock writes it and reboots the host.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { labReboot, type RebootReport } from './reboot';
import { readJson, resolveDir, statePath, type LabState } from './state';

/** libfaketime's offset syntax as the lab uses it: a sign, a whole number, s/m/h/d. */
const OFFSET = /^[+-]\d{1,6}[smhd]$/;

/** The multi-threaded variant: zfs-fuse and sshd run threads. */
const LIBRARY_NAME = 'faketime/libfaketimeMT.so.1';

export interface ClockHost {
  /** The host's state dir (hosts/NAME). Absent while the host is first built: its clock is the machine's. */
  root?: string;
}

const offsetFile = (root: string) => path.join(root, 'clock-offset');

/** The host's clock offset ('+5h', '-5h'), or undefined when it keeps the machine's time. */
export function clockOffset(h: ClockHost): string | undefined {
  if (!h.root) return undefined;
  try {
    const offset = fs.readFileSync(offsetFile(h.root), 'utf8').trim();
    return offset === '' ? undefined : offset;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Where Debian installs libfaketime (the multiarch directory of this machine). */
export function faketimeLibrary(): string {
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', ...fs.readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu')).map((d) => `/usr/lib/${d}`)]) {
    const file = path.join(dir, LIBRARY_NAME);
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`no ${LIBRARY_NAME} under /usr/lib: install the Debian package faketime (scripts/setup.sh does)`);
}

/** The variables that set a process's wall clock `offset` off (besides LD_PRELOAD). */
export function faketimeVariables(offset: string): string[] {
  // No shared memory: sshd's sandboxed children must not need it.
  return [`FAKETIME=${offset}`, 'FAKETIME_DONT_FAKE_MONOTONIC=1', 'FAKETIME_DISABLE_SHM=1'];
}

/**
 * `env` arguments for a daemon of the host: LD_PRELOAD with `preload` (what the daemon preloads
 * anyway) and, when the host's clock is off, libfaketime and its variables.
 */
export function daemonEnv(h: ClockHost, preload: string[] = []): string[] {
  const offset = clockOffset(h);
  const libraries = offset ? [...preload, faketimeLibrary()] : preload;
  return [
    ...(libraries.length > 0 ? [`LD_PRELOAD=${libraries.join(' ')}`] : []),
    ...(offset ? faketimeVariables(offset) : []),
  ];
}

/** sshd options that give every session the host's clock (none when it keeps the machine's). */
export function sessionClockOptions(h: ClockHost): string[] {
  const offset = clockOffset(h);
  if (!offset) return [];
  return ['-o', `SetEnv=LD_PRELOAD=${faketimeLibrary()} ${faketimeVariables(offset).join(' ')}`];
}

/**
 * Sets the host's clock `offset` off the machine's ('+5h', '-30m'; '0' for none) and reboots it so
 * that every daemon runs on it. Returns the reboot's report (the host's new pids).
 */
export async function labSetClock(opts: { dir?: string; host: string; offset: string }): Promise<RebootReport> {
  const { offset } = opts;
  if (offset !== '0' && !OFFSET.test(offset)) throw new Error(`clock offset '${offset}' is not like +5h, -30m, +90s, +2d or 0`);
  if (offset !== '0') faketimeLibrary();
  const dir = resolveDir(opts.dir);
  const state = readJson<LabState>(statePath(dir));
  const h = state?.hosts.find((x) => x.name === opts.host);
  if (!h) throw new Error(`no host '${opts.host}' in the lab in ${dir}`);
  if (offset === '0') fs.rmSync(offsetFile(h.root), { force: true });
  else fs.writeFileSync(offsetFile(h.root), `${offset}\n`);
  return labReboot({ dir, host: opts.host });
}
