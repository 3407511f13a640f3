/** Shell scripts run inside a bench lab host (its mount, UTS and network namespaces), as root. */
import type { LabHostState } from '../../lab/lab';
import { HOST_ENV, run } from '../../lab/exec';

export interface HostScriptOptions {
  timeoutMs?: number;
  input?: string;
}

/** Runs a shell script inside a lab host; resolves with its exit code and output. */
export async function onHost(host: LabHostState, script: string, opts: HostScriptOptions = {}) {
  return run('nsenter', [`--mount=${host.mountNs}`, `--uts=${host.utsNs}`, `--net=/run/netns/${host.netns}`, '--', 'sh', '-c', script], {
    env: HOST_ENV,
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 300_000,
  });
}

/** Runs a shell script inside a lab host; its stdout, or an error with the end of its output. */
export async function mustOnHost(host: LabHostState, script: string, opts: HostScriptOptions = {}): Promise<string> {
  const r = await onHost(host, script, opts);
  if (r.code !== 0) throw new Error(`${host.name}: exit ${r.code}: ${script}\n${(r.stderr || r.stdout).trim().split('\n').slice(-12).join('\n')}`);
  return r.stdout;
}

/** Wall-clock seconds of a script on a host, as seen from here (nsenter + sh included: a few ms). */
export async function timedOnHost(host: LabHostState, script: string): Promise<number> {
  const t0 = performance.now();
  await mustOnHost(host, script);
  return (performance.now() - t0) / 1000;
}

/** `zfs destroy -r`, retried: zfs-fuse may report a freshly rolled back or received dataset busy for a moment. */
export function destroyScript(dataset: string): string {
  return `if zfs get -H -o value name ${dataset} >/dev/null 2>&1; then
    for i in 1 2 3 4 5 6 7 8; do zfs destroy -r ${dataset} 2>/dev/null && exit 0; sleep 0.5; done
    zfs destroy -r -f ${dataset}
  fi`;
}
