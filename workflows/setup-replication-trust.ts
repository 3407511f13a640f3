/**
 * setupReplicationTrust — the runbook's replication-user section, least privilege:
 *
 *   "create the zfsadm user on all of our storage VMs"        → ensureReplicationUser
 *   "generate an RSA private/public key pair on the storage head" → ensureReplicationKey (ed25519,
 *                                                                 generated on the host)
 *   (new) only `zfs receive -u DATASET` may run with that key    → installReceiveGuard
 *   "append the public portion ... to authorized_keys2" on the target → authorizeReplicationKeys
 *   (new) the source knows its targets' host keys from the inventory  → pinReplicationHostKeys
 *   (new) a changed authorization reaches open connections too      → closeStaleConnections
 *
 * Every storage VM gets all six steps (a host with no source or target gets empty lists, which
 * removes what an earlier inventory had authorized or pinned). Hosts run in parallel. Every step is
 * idempotent and reports what it changed: a second run reports nothing. No secret in the input, the
 * result or the history: only public keys travel.
 */
import { executeChild, patched, proxyActivities, proxyLocalActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../core/failures';
import { Runbook, runSearchAttributes } from '../core/search-attributes';
import type { TrustActivities } from '../activities/guest/trust';
import type { HostTrustReport, PinnedTarget, SetupReplicationTrustInput, SetupReplicationTrustResult, SourceKey, TrustStepReport } from '../core/trust/shared';
import { trustPlan } from '../core/trust/ring';
import type { StorageHostRef } from '../core/hosts';

const options: ActivityOptions = { startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE.trust] } };
const { closeStaleConnections } = proxyActivities<TrustActivities>(options);
/**
 * The per-host steps: short SSH commands (a few hundred ms, no heartbeat) run as local activities
 * in the child's own workflow task, not dispatched one by one through the server (with 4 hosts
 * that dispatching cost more than the commands). Runs recorded before keep their activities.
 */
const hostSteps = (): TrustActivities =>
  patched('trust-host-steps-local') ? proxyLocalActivities<TrustActivities>(options) : proxyActivities<TrustActivities>(options);

/** Per host, step 1: the user, its key pair, the receive guard. A child, so the parent's history stays short. */
export async function prepareReplicationHost(input: { host: StorageHostRef; user: string; allowSystemUser?: boolean; receives: string[] }): Promise<{ publicKey: string; steps: TrustStepReport[] }> {
  const { host, user } = input;
  const { ensureReplicationUser, ensureReplicationKey, installReceiveGuard } = hostSteps();
  const user1 = await ensureReplicationUser(host, user, { allowSystemUser: input.allowSystemUser });
  const { publicKey, ...key } = await ensureReplicationKey(host, user);
  const guard = await installReceiveGuard(host, { user, datasets: input.receives });
  return {
    publicKey,
    steps: [
      { step: 'ensureReplicationUser', changed: user1.changed, warnings: user1.warnings },
      { step: 'ensureReplicationKey', changed: key.changed, warnings: key.warnings },
      { step: 'installReceiveGuard', changed: guard.changed, warnings: guard.warnings },
    ],
  };
}

/** Per host, step 2: authorize its sources' keys, pin its targets' host keys. */
export async function exchangeReplicationKeys(input: { host: StorageHostRef; user: string; sources: SourceKey[]; targets: PinnedTarget[] }): Promise<TrustStepReport[]> {
  const { host, user } = input;
  const { authorizeReplicationKeys, pinReplicationHostKeys } = hostSteps();
  const [authorized, pinned] = await Promise.all([
    authorizeReplicationKeys(host, { user, sources: input.sources }),
    pinReplicationHostKeys(host, { user, targets: input.targets }),
  ]);
  return [
    { step: 'authorizeReplicationKeys', changed: authorized.changed, warnings: authorized.warnings },
    { step: 'pinReplicationHostKeys', changed: pinned.changed, warnings: pinned.warnings },
  ];
}

export async function setupReplicationTrust(input: SetupReplicationTrustInput): Promise<SetupReplicationTrustResult> {
  const plan = trustPlan(input);
  const { user } = plan;
  const childOptions = (step: 'prepare' | 'exchange', host: StorageHostRef) => ({
    workflowId: `${workflowInfo().workflowId}/${step}/${host.name}`,
    typedSearchAttributes: runSearchAttributes(Runbook.trust, { host: host.name }),
    staticSummary: step === 'prepare' ? `${host.name}: replication user, key pair, receive guard` : `${host.name}: authorized keys, pinned host keys`,
  });

  // 1. On every storage VM: the user, its key pair, the receive guard.
  const prepared = new Map(
    await Promise.all(
      plan.hosts.map(async (host) => {
        const result = await executeChild(prepareReplicationHost, {
          ...childOptions('prepare', host),
          args: [{ host, user, allowSystemUser: input.allowSystemUser, receives: plan.receives.get(host.name)! }],
        });
        return [host.name, result] as const;
      }),
    ),
  );

  // 2. Exchange: targets authorize their sources' keys, sources pin their targets' host keys.
  const exchanged = await Promise.all(
    plan.hosts.map((host) => {
      const sources: SourceKey[] = plan.sourcesOf.get(host.name)!.map(({ source, datasets }) => ({
        name: source.name,
        storageAddress: source.storageAddress,
        publicKey: prepared.get(source.name)!.publicKey,
        datasets,
      }));
      const targets: PinnedTarget[] = plan.targetsOf.get(host.name)!.map((t) => ({
        name: t.name,
        storageAddress: t.storageAddress,
        ...(t.port !== undefined ? { port: t.port } : {}),
        hostKey: t.hostKey,
      }));
      return executeChild(exchangeReplicationKeys, { ...childOptions('exchange', host), args: [{ host, user, sources, targets }] });
    }),
  );

  // 3. A master logged in before keeps its old forced command: on every source, stop its shared
  //    connections to the targets whose guard or authorized keys just changed.
  const authorizationChanged = (steps: TrustStepReport[]) =>
    steps.some((s) => (s.step === 'installReceiveGuard' || s.step === 'authorizeReplicationKeys') && s.changed.length > 0);
  const changedTargets = new Set(plan.hosts.filter((host, i) => authorizationChanged([...prepared.get(host.name)!.steps, ...exchanged[i]!])).map((h) => h.name));
  const closed = await Promise.all(
    plan.hosts.map(async (host): Promise<TrustStepReport> => {
      const targets = plan.targetsOf.get(host.name)!.filter((t) => changedTargets.has(t.name));
      const change = targets.length > 0 ? await closeStaleConnections(host, { user, targets }) : { changed: [], warnings: [] };
      return { step: 'closeStaleConnections', ...change };
    }),
  );

  const hosts: HostTrustReport[] = plan.hosts.map((host, i) => ({
    host: host.name,
    publicKey: prepared.get(host.name)!.publicKey,
    receives: plan.receives.get(host.name)!,
    authorizes: plan.sourcesOf.get(host.name)!.map((s) => s.source.name),
    pins: plan.targetsOf.get(host.name)!.map((t) => t.name),
    steps: [...prepared.get(host.name)!.steps, ...exchanged[i]!, closed[i]!],
  }));
  return { user, hosts, changes: hosts.reduce((n, h) => n + h.steps.reduce((m, s) => m + s.changed.length, 0), 0) };
}
