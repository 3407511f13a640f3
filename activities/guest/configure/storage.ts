/**
 * The storage steps of configureStorage: the pool from disks chosen by role, the datasets with
 * their properties, the NFS shares. Each reads the guest, plans in core/guest/storage/ (pure,
 * golden-tested), runs only what the plan says and reports it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failure } from '../../../core/failures';
import type { DatasetSpec, PoolSpec, StepReport } from '../../../core/configure/shared';
import type { StorageHostRef } from '../../../core/hosts';
import { guestProfile } from '../../../core/guest/profile';
import { datasetFactsRead, datasetReadErrors, parseDatasetFacts, planDatasets } from '../../../core/guest/storage/datasets';
import { dedupMemoryWarning, dedupOn } from '../../../core/guest/storage/dedup';
import { resolveDisks } from '../../../core/guest/storage/disks';
import { assembleDisks, disksToProbe } from '../../../core/guest/storage/guest-disk';
import { parseGetentHosts, poolStatusRead, resolveNameRead, storageCommands } from '../../../core/guest/storage/os';
import { parsePoolStatus } from '../../../core/guest/storage/pool-layout';
import { planPool, type StoragePlan } from '../../../core/guest/storage/pool-plan';
import { parsePoolProperties, planPoolProperties, poolPropertiesRead } from '../../../core/guest/storage/pool-properties';
import { isReshareFailure, namesToResolve, planShares } from '../../../core/guest/storage/shares';
import { readSharenfsDialect } from '../sharenfs-dialect';
import type { Transport } from '../../transport';
import { listingOk, runListing } from '../../listing';

const READ_TIMEOUT_MS = 60_000;
/** zpool create on many large disks, zfs create -p of a deep tree: minutes at worst. */
const CHANGE_TIMEOUT_MS = 10 * 60_000;

export function createStorageActivities(deps: { transport: Transport }) {
  const { transport } = deps;
  /** Every read here is a listing: one cut short is an error, never half of it. */
  const read = (host: StorageHostRef, argv: string[]) => listingOk(transport, host, argv, { timeoutMs: READ_TIMEOUT_MS });

  /** Runs a plan's commands in order; `tolerate` turns a known harmless failure into a warning. */
  async function apply(host: StorageHostRef, plan: StoragePlan, tolerate?: (stderr: string) => string | undefined): Promise<StepReport> {
    const report: StepReport = { found: plan.found, changed: [], warnings: [...plan.warnings] };
    for (const command of plan.commands) {
      const r = await transport.run(host, command.argv, { timeoutMs: CHANGE_TIMEOUT_MS });
      const tolerated = r.code !== 0 ? tolerate?.(r.stderr) : undefined;
      if (r.code !== 0 && tolerated === undefined) {
        throw new Error(`${host.name}: ${command.argv.join(' ')} exited with ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
      }
      report.changed.push(command.change);
      if (tolerated) report.warnings.push(tolerated);
    }
    return report;
  }

  async function datasetFacts(host: StorageHostRef, names: string[]) {
    const r = await runListing(transport, host, datasetFactsRead(guestProfile(host.os).zfs, names), { timeoutMs: READ_TIMEOUT_MS });
    const errors = datasetReadErrors(r.stderr);
    if (errors.length > 0) throw new Error(`${host.name}: zfs get: ${errors.join('; ').slice(0, 2000)}`);
    return parseDatasetFacts(r.stdout, names);
  }

  return {
    /** The runbook's `zpool create sp1 c8t1d0 log c11t0d0`: created, completed with added log/cache/spares and its properties set where they differ, or left alone. */
    async createPool(host: StorageHostRef, pool: PoolSpec): Promise<StepReport> {
      const profile = guestProfile(host.os);
      const os = storageCommands[host.os];
      const [status, listing] = await Promise.all([read(host, poolStatusRead(profile.zpool)), read(host, os.diskListing(host.diskDirectory))]);
      const layouts = parsePoolStatus(status);
      const listed = os.parseDiskListing(listing);
      // zdb -l costs a tenth of a second per disk: only where a label matters.
      const toProbe = disksToProbe(listed, layouts, os.wholeDiskName);
      const probed = toProbe.length > 0 ? os.parseLabelProbe(await read(host, os.labelProbe(toProbe))) : new Map<string, never>();
      const disks = assembleDisks(listed, probed, layouts, os.wholeDiskName);
      const resolved = resolveDisks(pool, disks);
      if (!resolved.ok) {
        throw ApplicationFailure.nonRetryable(`${host.name}: ${resolved.conflicts.map((c) => c.message).join('\n')}`, Failure.DiskSelection, resolved.conflicts.map((c) => c.type));
      }
      const existing = layouts.find((l) => l.name === pool.name);
      const plan = planPool(pool, resolved, existing, profile);
      if (!plan.ok) throw ApplicationFailure.nonRetryable(`${host.name}: ${plan.conflict.message}`, Failure.PoolLayoutDiffers, plan.conflict);
      if (existing && Object.keys(pool.properties).length > 0) {
        const current = parsePoolProperties(await read(host, poolPropertiesRead(profile.zpool, pool.name)), pool.name);
        const properties = planPoolProperties(pool, current, profile.zpool);
        plan.commands.push(...properties.commands);
        plan.found.push(...properties.found);
        plan.warnings.push(...properties.warnings);
      }
      return apply(host, plan);
    },

    /** `zfs create -p` with the inventory's properties; drift on an existing dataset set back. The runbook's dedup memory rule. */
    async configureDatasets(host: StorageHostRef, input: { datasets: DatasetSpec[]; memoryGiB: number }): Promise<StepReport> {
      const profile = guestProfile(host.os);
      const facts = await datasetFacts(host, input.datasets.map((d) => d.name));
      const report = await apply(host, planDatasets(input.datasets, facts, profile));
      const deduped = input.datasets.filter((d) => dedupOn(d.properties.dedup));
      if (deduped.length > 0) {
        // The pool's size bounds what can be deduped: used + available of its root dataset.
        const pool = deduped[0]!.name.split('/')[0]!;
        const sizes = parseDatasetFacts(await read(host, [profile.zfs, 'get', '-H', '-p', '-o', 'name,property,value,source', 'used,available', pool]), [pool]).get(pool);
        const bytes = Number(sizes?.get('used')?.value ?? 0) + Number(sizes?.get('available')?.value ?? 0);
        const warning = dedupMemoryWarning(input.memoryGiB, bytes);
        if (warning) report.warnings.push(`${deduped.map((d) => d.name).join(', ')}: ${warning}`);
      }
      return report;
    },

    /** `zfs set sharenfs=...` in the guest ZFS's dialect, once every client name resolves on the guest. */
    async shareDatasets(host: StorageHostRef, datasets: DatasetSpec[]): Promise<StepReport> {
      const profile = guestProfile(host.os);
      const names = [...new Set(datasets.flatMap((d) => (d.share ? namesToResolve(d.share) : [])))];
      // Everything this step reads, at once (channels of one SSH connection).
      const [resolves, dialect, facts] = await Promise.all([
        Promise.all(names.map(async (name) => {
          const r = await transport.run(host, resolveNameRead(name), { timeoutMs: READ_TIMEOUT_MS });
          return r.code === 0 && parseGetentHosts(r.stdout).length > 0;
        })),
        readSharenfsDialect(transport, host),
        datasetFacts(host, datasets.map((d) => d.name)),
      ]);
      const unresolved = names.filter((_, i) => !resolves[i]);
      if (unresolved.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `${host.name}: ${unresolved.join(', ')} do${unresolved.length === 1 ? 'es' : ''} not resolve on the guest (getent hosts): no share set. ` +
            'Give the hosts a storage network in the inventory (written to /etc/hosts by configureNameResolution) or the VM DNS servers that know them',
          Failure.UnresolvedClient,
          unresolved,
        );
      }
      const current = new Map(datasets.map((d) => [d.name, facts.get(d.name)?.get('sharenfs')]));
      return apply(host, planShares(datasets, current, { zfs: profile.zfs, dialect }), (stderr) =>
        isReshareFailure(stderr) ? 'sharenfs is stored but no NFS server took it: start the NFS server, then `zfs share -a`' : undefined);
    },
  };
}
