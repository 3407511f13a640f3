/**
 * `esxi-zfs provision --wait`'s live display, built from workflow queries (never from logs): the
 * cluster's status, each running host's provisionHost status, and the step's own runbook status
 * where it has one (the reboot wait and its deadline, the signal to send; the guest wait).
 * On a terminal the block is redrawn in place every second; elsewhere a line is printed when it changes.
 */
import { clearScreenDown, moveCursor } from 'node:readline';
import type { Client } from '@temporalio/client';
import { passthroughStatusQuery } from '../core/passthrough/shared';
import {
  provisionClusterStatusQuery, provisionHostStatusQuery, WorkflowIds,
  type ProvisionClusterStatus, type ProvisionHostStatus, type StepOutcome,
} from '../core/provision/shared';
import { storageVmStatusQuery } from '../core/storage-vm/shared';

const EVERY_MS = 1000;

/** `1:05`, `12:00:03`. */
export function elapsed(fromIso: string | undefined, now: number): string {
  if (!fromIso) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

const clock = (iso: string) => iso.slice(11, 19);
const query = <T>(p: Promise<T>) => p.then((v) => v, () => undefined);

/** The step's own detail: the runbook it runs, asked where it is. */
async function stepDetail(client: Client, host: ProvisionHostStatus, now: number, live: boolean): Promise<string> {
  const at = (s: { since: string }) => (live ? ` ${elapsed(s.since, now)}` : '');
  if (host.current === 'enablePassthrough') {
    const s = await query(client.workflow.getHandle(WorkflowIds.enablePassthrough(host.host)).query(passthroughStatusQuery));
    if (!s) return '';
    const deadline = s.deadline ? `, back by ${clock(s.deadline)}` : '';
    const operator = s.waitingForOperator ? `\n      ${s.waitingForOperator}\n      then: esxi-zfs host-is-back ${host.host}` : '';
    return ` > ${s.step}${at(s)}${deadline}${operator}`;
  }
  if (host.current === 'buildStorageVm') {
    const s = await query(client.workflow.getHandle(WorkflowIds.buildStorageVm(host.host)).query(storageVmStatusQuery));
    return s ? ` > ${s.step}${at(s)}${s.deadline ? `, by ${clock(s.deadline)}` : ''}` : '';
  }
  return '';
}

const stepLine = (s: StepOutcome, now: number, live: boolean) => {
  const running = s.state === 'running' && live ? ` ${elapsed(s.startedAt, now)}` : '';
  const changed = s.state === 'done' ? (s.changed.length > 0 ? ` (${s.changed.length} changed)` : ' (unchanged)') : '';
  return `${s.step}: ${s.state}${running}${changed}${s.reason && s.state !== 'done' ? ` - ${s.reason}` : ''}`;
};

/** One line per host (and per waiting detail), then the cluster's own steps. */
export async function statusLines(client: Client, hosts: string[], cluster: ProvisionClusterStatus | undefined, live: boolean): Promise<string[]> {
  const now = Date.now();
  const lines: string[] = [];
  for (const host of hosts) {
    // Under a cluster run, a host's child is asked only once the cluster started it (an older run may hold the id).
    const pending = cluster !== undefined && cluster.hosts.find((h) => h.host === host)?.state === 'pending';
    const s = pending ? undefined : await query(client.workflow.getHandle(WorkflowIds.provisionHost(host)).query(provisionHostStatusQuery));
    if (!s) {
      lines.push(`${host}: waiting to start`);
      continue;
    }
    const done = s.steps.filter((x) => x.state === 'done' || x.state === 'skipped').length;
    const current = s.steps.find((x) => x.step === s.current);
    const where = s.failed
      ? `failed at ${s.failed}: ${s.steps.find((x) => x.step === s.failed)?.reason ?? ''}`
      : current ? `${current.step}${live ? ` ${elapsed(current.startedAt, now)}` : ''}${await stepDetail(client, s, now, live)}` : done === s.steps.length ? 'done' : 'starting';
    lines.push(`${host} (${s.vm}) [${done}/${s.steps.length}] ${where}`);
  }
  for (const s of cluster?.steps ?? []) if (s.step !== 'provisionHosts' && s.state !== 'pending') lines.push(`cluster ${stepLine(s, now, live)}`);
  return lines;
}

/** Follows until `finished` settles: redraws on a terminal, prints changes elsewhere. */
export async function followProvisioning(
  client: Client, hosts: string[], clusterId: string | undefined, finished: Promise<unknown>,
  out: NodeJS.WriteStream = process.stdout,
): Promise<void> {
  let ended = false;
  void finished.then(() => { ended = true; }, () => { ended = true; });
  const live = out.isTTY === true;
  let drawn = 0;
  const printed = new Set<string>();
  for (;;) {
    const cluster = clusterId ? await query(client.workflow.getHandle(clusterId).query(provisionClusterStatusQuery)) : undefined;
    const lines = await statusLines(client, hosts, cluster, live);
    if (live) {
      if (drawn > 0) {
        moveCursor(out, 0, -drawn);
        clearScreenDown(out);
      }
      const text = lines.join('\n');
      out.write(`${text}\n`);
      drawn = text.split('\n').length;
    } else {
      for (const line of lines) {
        if (!printed.has(line)) out.write(`${line}\n`);
        printed.add(line);
      }
    }
    if (ended) return;
    await Promise.race([finished.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, EVERY_MS))]);
  }
}
