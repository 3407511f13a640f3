/**
 * setupReplicationTrust — the runbook's replication-user section, least privilege:
 *
 *   "create the zfsadm user on all of our storage VMs"        → ensureReplicationUser
 *   "generate an RSA private/public key pair on the storage head" → ensureReplicationKey (ed25519,
 *                                                                 generated on the host)
 *   (new) only `zfs receive -u DATASET` may run with that key    → installReceiveGuard
 *   "append the public portion ... to authorized_keys2" on the target → authorizeReplicationKeys
 *   (new) the source knows its targets' host keys from the inventory  → pinReplicationHostKeys
 *
 * Every storage VM gets all five steps (a host with no source or target gets empty lists, which
 * removes what an earlier inventory had authorized or pinned). Hosts run in parallel. Every step is
 * idempotent and reports what it changed: a second run reports nothing. No secret in the input, the
 * result or the history: only public keys travel.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { TrustActivities } from '../activities/guest/trust';
import type { PinnedTarget, SetupReplicationTrustInput, SourceKey, TrustChange } from '../activities/guest/trust-plan';
import type { StorageHostRef } from '../inventory/targets';

export type { SetupReplicationTrustInput, TrustEdge } from '../activities/guest/trust-plan';

const { ensureReplicationUser, ensureReplicationKey, installReceiveGuard, authorizeReplicationKeys, pinReplicationHostKeys } =
  proxyActivities<TrustActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['TrustConfig'] },
  });

export const TRUST_STEPS = [
  'ensureReplicationUser',
  'ensureReplicationKey',
  'installReceiveGuard',
  'authorizeReplicationKeys',
  'pinReplicationHostKeys',
] as const;
export type TrustStep = (typeof TRUST_STEPS)[number];

export interface TrustStepReport extends TrustChange {
  step: TrustStep;
}

export interface HostTrustReport {
  host: string;
  /** The replication user's public key on this host. */
  publicKey: string;
  /** Datasets this host receives into (its receive guard's arguments). */
  receives: string[];
  /** Sources whose keys it authorizes, and targets whose host keys it pins. */
  authorizes: string[];
  pins: string[];
  steps: TrustStepReport[];
}

export interface SetupReplicationTrustResult {
  user: string;
  hosts: HostTrustReport[];
  /** Number of changes over every host and step: 0 when everything was in place. */
  changes: number;
}

interface Plan {
  user: string;
  hosts: StorageHostRef[];
  receives: Map<string, string[]>;
  sourcesOf: Map<string, { source: StorageHostRef; datasets: string[] }[]>;
  targetsOf: Map<string, StorageHostRef[]>;
}

/** Who receives what, who authorizes whom, who pins whom. Hosts named only by edges are added. */
export function trustPlan(input: SetupReplicationTrustInput): Plan {
  const user = input.user ?? 'zfsadm';
  const byName = new Map<string, StorageHostRef>();
  for (const h of [...input.hosts, ...input.edges.flatMap((e) => [e.source, e.target])]) if (!byName.has(h.name)) byName.set(h.name, h);
  const hosts = [...byName.values()];
  const receives = new Map<string, string[]>(hosts.map((h) => [h.name, []]));
  const sourcesOf = new Map<string, { source: StorageHostRef; datasets: string[] }[]>(hosts.map((h) => [h.name, []]));
  const targetsOf = new Map<string, StorageHostRef[]>(hosts.map((h) => [h.name, []]));
  for (const edge of input.edges) {
    const source = byName.get(edge.source.name)!;
    const target = byName.get(edge.target.name)!;
    const rx = receives.get(target.name)!;
    if (!rx.includes(edge.targetDataset)) rx.push(edge.targetDataset);
    const sources = sourcesOf.get(target.name)!;
    const entry = sources.find((s) => s.source.name === source.name);
    if (!entry) sources.push({ source, datasets: [edge.targetDataset] });
    else if (!entry.datasets.includes(edge.targetDataset)) entry.datasets.push(edge.targetDataset);
    const targets = targetsOf.get(source.name)!;
    if (!targets.some((t) => t.name === target.name)) targets.push(target);
  }
  return { user, hosts, receives, sourcesOf, targetsOf };
}

export async function setupReplicationTrust(input: SetupReplicationTrustInput): Promise<SetupReplicationTrustResult> {
  const plan = trustPlan(input);
  const { user } = plan;
  const reports = new Map<string, HostTrustReport>(
    plan.hosts.map((h) => [
      h.name,
      {
        host: h.name,
        publicKey: '',
        receives: plan.receives.get(h.name)!,
        authorizes: plan.sourcesOf.get(h.name)!.map((s) => s.source.name),
        pins: plan.targetsOf.get(h.name)!.map((t) => t.name),
        steps: [],
      },
    ]),
  );
  const record = (host: string, step: TrustStep, change: TrustChange) =>
    reports.get(host)!.steps.push({ step, changed: change.changed, warnings: change.warnings });

  // 1. On every storage VM: the user, its key pair, the receive guard.
  await Promise.all(
    plan.hosts.map(async (host) => {
      record(host.name, 'ensureReplicationUser', await ensureReplicationUser(host, user));
      const { publicKey, ...keyChange } = await ensureReplicationKey(host, user);
      reports.get(host.name)!.publicKey = publicKey;
      record(host.name, 'ensureReplicationKey', keyChange);
      record(host.name, 'installReceiveGuard', await installReceiveGuard(host, { user, datasets: plan.receives.get(host.name)! }));
    }),
  );

  // 2. Exchange: targets authorize their sources' keys, sources pin their targets' host keys.
  await Promise.all(
    plan.hosts.flatMap((host) => [
      (async () => {
        const sources: SourceKey[] = plan.sourcesOf.get(host.name)!.map(({ source, datasets }) => ({
          name: source.name,
          storageAddress: source.storageAddress,
          publicKey: reports.get(source.name)!.publicKey,
          datasets,
        }));
        record(host.name, 'authorizeReplicationKeys', await authorizeReplicationKeys(host, { user, sources }));
      })(),
      (async () => {
        const targets: PinnedTarget[] = plan.targetsOf.get(host.name)!.map((t) => ({
          name: t.name,
          storageAddress: t.storageAddress,
          ...(t.port !== undefined ? { port: t.port } : {}),
          hostKey: t.hostKey,
        }));
        record(host.name, 'pinReplicationHostKeys', await pinReplicationHostKeys(host, { user, targets }));
      })(),
    ]),
  );

  const hosts = [...reports.values()].map((r) => ({ ...r, steps: [...r.steps].sort((a, b) => TRUST_STEPS.indexOf(a.step) - TRUST_STEPS.indexOf(b.step)) }));
  return { user, hosts, changes: hosts.reduce((n, h) => n + h.steps.reduce((m, s) => m + s.changed.length, 0), 0) };
}
