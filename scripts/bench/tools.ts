/**
 * The tools the benchmark compares, as data, and the commands of those that are not the product:
 * the raw pipelines and syncoid, each with its own target dataset.
 */
import type { LabHostState } from '../../lab/lab';
import { counterStage } from '../../activities/replication/byte-counter';
import { growStdinPipe } from '../../core/trust/guard';
import { onHost } from './host';

/** The dataset every tool replicates, on the source host. */
export const SOURCE = 'sp1/bench/d';
export const TARGETS = { workflow: 'sp2/bench/wf', raw: 'sp2/bench/raw', rawPipes: 'sp2/bench/rawpipes', rawDefault: 'sp2/bench/rawdefault', syncoid: 'sp2/bench/syncoid' } as const;
export type Tool = keyof typeof TARGETS;
/**
 * rawPipes: the raw pipeline with the product's pipe sizes (its splice counter on the source, the
 * receive guard's 1 MiB stdin pipe on the target), to show what the pipes are worth and what the
 * workflow costs beyond them. rawDefault: with OpenSSH's default cipher, what the cipher is worth.
 */
export const TOOLS: Tool[] = ['workflow', 'raw', 'rawPipes', 'rawDefault', 'syncoid'];
const LABELS: Record<Tool, string> = { workflow: 'workflow', raw: 'raw', rawPipes: 'raw, 1 MiB pipes', rawDefault: 'raw, ssh defaults', syncoid: 'syncoid' };
export const toolLabel = (tool: Tool) => LABELS[tool];

/** The raw pipelines: plain, with the product's pipes, with OpenSSH's default cipher. */
export type RawTool = 'raw' | 'rawPipes' | 'rawDefault';
export const isRawTool = (tool: Tool): tool is RawTool => tool === 'raw' || tool === 'rawPipes' || tool === 'rawDefault';

/** The raw peer's and syncoid's key (root on the source to root on the target) and its pinned host key. */
export const BENCH_KEY = '/root/.ssh/bench_ed25519';
export const BENCH_KNOWN_HOSTS = '/root/.ssh/bench_known_hosts';
/** syncoid with its snapshot-listing fallback fixed (see prepareHosts). */
export const PATCHED_SYNCOID = '/root/syncoid-fallback-fixed';

/** The ssh commands of the raw pipelines, to root on the target: with the product's ciphers, and with OpenSSH's default. */
export interface SshCommands {
  ssh: string;
  sshDefault: string;
}

export function sshCommands(target: LabHostState, ciphers: string): SshCommands {
  const sshDefault = `ssh -T -i ${BENCH_KEY} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${BENCH_KNOWN_HOSTS} -o ServerAliveInterval=10 -o ServerAliveCountMax=3 root@${target.storageAddress}`;
  return { ssh: sshDefault.replace('ssh -T ', `ssh -T -c ${ciphers} `), sshDefault };
}

/** `send` (a zfs send command) piped into the raw tool's receive into its target. */
export function rawPipeline(tool: RawTool, send: string, { ssh, sshDefault }: SshCommands): string {
  return tool === 'rawPipes'
    ? `{ ${send} | ${counterStage('splice').text}${ssh} "${growStdinPipe('perl')}; zfs receive -u ${TARGETS[tool]}"; } 3>/dev/null`
    : `${send} | ${tool === 'raw' ? ssh : sshDefault} zfs receive -u ${TARGETS[tool]}`;
}

export interface SyncoidRun {
  ok: boolean;
  seconds: number;
  error?: string;
}

/** syncoid run as root on the source, pushing SOURCE to its target; collects what it said. */
export class Syncoid {
  /** Its INFO/WARN/ERROR lines, dates and sizes taken out: each different message once. */
  readonly messages = new Set<string>();
  private readonly args: string;

  constructor(private readonly source: LabHostState, target: LabHostState, ciphers: string) {
    this.args = `--sshcipher ${ciphers} --sshkey ${BENCH_KEY} --sshoption IdentitiesOnly=yes --sshoption BatchMode=yes --sshoption StrictHostKeyChecking=yes --sshoption UserKnownHostsFile=${BENCH_KNOWN_HOSTS} ${SOURCE} root@${target.storageAddress}:${TARGETS.syncoid}`;
  }

  /** One run of `binary` (`syncoid`, or `perl PATCHED_SYNCOID`), timed. */
  async run(binary: string): Promise<SyncoidRun> {
    const t0 = performance.now();
    const r = await onHost(this.source, `${binary} ${this.args}`);
    const seconds = (performance.now() - t0) / 1000;
    const out = `${r.stdout}\n${r.stderr}`;
    for (const line of out.split('\n')) {
      const m = /^(INFO|WARN|WARNING|CRITICAL ERROR|ERROR): (.*)$/.exec(line.trim());
      if (m) this.messages.add(`${m[1]}: ${m[2]!.replace(/\d{4}-\d\d-\d\d:\d\d:\d\d:\d\d/g, 'DATE').replace(/\(~ [^)]*\)/, '').replace(/\d+ bytes/, 'N bytes').trim()}`);
    }
    if (/snapshot listing failed/.test(out)) this.messages.add('WARN: snapshot listing failed, trying fallback command (zfs-fuse has no `zfs get -t`)');
    const critical = /CRITICAL ERROR: .*/.exec(out)?.[0];
    if (r.code !== 0 || critical) return { ok: false, seconds, error: critical ?? `exit ${r.code}: ${out.trim().split('\n').slice(-3).join(' | ')}` };
    return { ok: true, seconds };
  }
}
