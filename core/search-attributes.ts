/**
 * The search attributes every run carries, defined once: the server registration, starts, child
 * workflows, schedules and status all use these keys, so the UI lists a host's or a dataset's runs
 * and filters schedules by dataset.
 */
import { defineSearchAttributeKey, type SearchAttributePair } from '@temporalio/common';

export const SearchAttribute = {
  /** The storage VM a run acts on (the source, for replication). */
  host: defineSearchAttributeKey('host', 'KEYWORD'),
  /** Every storage VM a run acts on, for runbooks over several (probe, trust). */
  hosts: defineSearchAttributeKey('hosts', 'KEYWORD_LIST'),
  /** The source dataset, for replication and its schedules. */
  dataset: defineSearchAttributeKey('dataset', 'KEYWORD'),
  runbook: defineSearchAttributeKey('runbook', 'KEYWORD'),
} as const;

/** The `runbook` attribute's values. */
export const Runbook = {
  probe: 'probe',
  trust: 'trust',
  replicate: 'replicate',
  scheduledReplication: 'scheduled-replication',
  cloneReplica: 'clone-replica',
  configureStorage: 'configure-storage',
  enablePassthrough: 'enable-passthrough',
  buildStorageVm: 'build-storage-vm',
  registerDatastore: 'register-datastore',
  recoverDatastores: 'recover-datastores',
  provisionHost: 'provision-host',
  provisionCluster: 'provision-cluster',
  failover: 'failover',
  failback: 'failback',
  inspectCluster: 'inspect-cluster',
} as const;
export type RunbookName = (typeof Runbook)[keyof typeof Runbook];

/** The pairs for a run of `runbook` on `host` / `hosts` / `dataset` (each where it applies). */
export function runSearchAttributes(runbook: RunbookName, on: { host?: string; hosts?: string[]; dataset?: string } = {}): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [{ key: SearchAttribute.runbook, value: runbook }];
  if (on.host !== undefined) pairs.push({ key: SearchAttribute.host, value: on.host });
  if (on.hosts !== undefined) pairs.push({ key: SearchAttribute.hosts, value: on.hosts });
  if (on.dataset !== undefined) pairs.push({ key: SearchAttribute.dataset, value: on.dataset });
  return pairs;
}
