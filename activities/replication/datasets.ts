/**
 * The replication steps that act on one dataset on one host: snapshot, read state, hold, release,
 * roll back, destroy (holds are taken and released inside the transfer step). Each reads first,
 * changes only what differs, and says what it changed.
 */
import { Failure } from '../../core/failures';
import { ApplicationFailure } from '@temporalio/common';
import { activityContext } from '../context';
import { startHeartbeat } from '../heartbeat';
import type { Transport } from '../transport';
import { listingOk, runListing } from '../listing';
import { guestProfile } from '../../core/guest/profile';
import { capabilities, type Capabilities, type PoolVersion } from '../../core/zfs/capabilities';
import { isMissingDataset, parseDatasetProps, parseSnapshotProps, parseZpoolGet } from '../../core/zfs/parse';
import { datasetPropsArgv, poolPropsArgv, snapshotPropsArgv } from '../../core/zfs/queries';
import { isOurs } from '../../core/zfs/snapshot-name';
import type { Snapshot } from '../../core/zfs/snapshot';
import type { StorageHostRef } from '../../core/hosts';
import { FENCE_PROPERTY } from '../../core/failover/shared';

export interface DatasetRef {
  host: StorageHostRef;
  dataset: string;
}

export interface DatasetState {
  pool: { version: PoolVersion; capabilities: Capabilities };
  /** null: the dataset does not exist. */
  snapshots: Snapshot[] | null;
  resumeToken?: string;
  writtenBytes?: number;
  /** A failover's fence on this dataset (`esxi-zfs:fenced`): no replication may write it. */
  fence?: string;
}

const TIMEOUT = { timeoutMs: 120_000 };

function attemptNumber(): number {
  return activityContext()?.info.attempt ?? 1;
}

/** Runs `zfs …`/`zpool …` with the profile's binaries; argv[0] is 'zfs' or 'zpool'. */
function zfsArgv(host: StorageHostRef, argv: string[]): string[] {
  const profile = guestProfile(host.os);
  const [tool, ...rest] = argv;
  return [tool === 'zpool' ? profile.zpool : profile.zfs, ...rest];
}

const zfsRun = (transport: Transport, host: StorageHostRef, argv: string[]) => transport.run(host, zfsArgv(host, argv), TIMEOUT);
const zfsOutput = async (transport: Transport, host: StorageHostRef, argv: string[]) => (await transport.runOk(host, zfsArgv(host, argv), TIMEOUT)).stdout;
/** Read-only listings: with an end line, so one cut short is an error, never half a listing. */
const zfsList = (transport: Transport, host: StorageHostRef, argv: string[]) => runListing(transport, host, zfsArgv(host, argv), TIMEOUT);
const zfsListOk = (transport: Transport, host: StorageHostRef, argv: string[]) => listingOk(transport, host, zfsArgv(host, argv), TIMEOUT);

export async function snapshotsOf(transport: Transport, ref: DatasetRef): Promise<Snapshot[] | null> {
  const result = await zfsList(transport, ref.host, snapshotPropsArgv(ref.dataset));
  if (result.code !== 0) {
    if (isMissingDataset(result.stderr, ref.dataset)) return null;
    throw new Error(`${ref.host.name}: cannot list snapshots of ${ref.dataset}: ${result.stderr.trim()}`);
  }
  return parseSnapshotProps(result.stdout, ref.dataset);
}

/** Pool version and capabilities, snapshots, resume token and written bytes: two round trips at most. */
/** The fence a failover set on the dataset (a user property), or undefined. */
export async function fenceOf(transport: Transport, ref: DatasetRef): Promise<string | undefined> {
  const got = await zfsList(transport, ref.host, ['zfs', 'get', '-H', '-o', 'value', FENCE_PROPERTY, ref.dataset]);
  const value = got.stdout.trim();
  return got.code === 0 && value !== '-' && value !== '' ? value : undefined;
}

async function readDatasetState(transport: Transport, ref: DatasetRef): Promise<DatasetState> {
  const poolName = ref.dataset.split('/')[0]!;
  const [poolProps, snapshots, fence] = await Promise.all([
    zfsListOk(transport, ref.host, poolPropsArgv(poolName)),
    snapshotsOf(transport, ref),
    fenceOf(transport, ref),
  ]);
  const info = parseZpoolGet(poolProps)[poolName];
  if (!info) throw ApplicationFailure.nonRetryable(`${ref.host.name}: pool ${poolName} does not exist`, Failure.PoolMissing);
  const caps = capabilities(info.version, info.features);
  const state: DatasetState = { pool: { version: info.version, capabilities: caps }, snapshots, ...(fence !== undefined && { fence }) };
  if (snapshots !== null && (caps.resumeTokens || caps.writtenProperty)) {
    const props = parseDatasetProps(await zfsListOk(transport, ref.host, datasetPropsArgv(ref.dataset, caps)))[ref.dataset] ?? {};
    if (props.receive_resume_token) state.resumeToken = props.receive_resume_token;
    if (props.written !== undefined) state.writtenBytes = Number(props.written);
  }
  return state;
}

/**
 * `zfs hold TAG snapshot` where the pool has holds; already held is fine. (Reads the outcome
 * from zfs itself: `zfs holds` needs a Python helper that zfs-fuse lacks.)
 */
export async function holdSnapshot(transport: Transport, ref: DatasetRef, snapshot: string, tag: string): Promise<boolean> {
  const result = await zfsRun(transport, ref.host, ['zfs', 'hold', tag, `${ref.dataset}@${snapshot}`]);
  if (result.code === 0) return true;
  if (/tag already exists/.test(result.stderr)) return false;
  throw new Error(`${ref.host.name}: zfs hold ${ref.dataset}@${snapshot} failed: ${result.stderr.trim()}`);
}

/** `zfs release TAG snapshot`; a hold or snapshot already gone is fine. */
export async function releaseSnapshot(transport: Transport, ref: DatasetRef, snapshot: string, tag: string): Promise<boolean> {
  const result = await zfsRun(transport, ref.host, ['zfs', 'release', tag, `${ref.dataset}@${snapshot}`]);
  if (result.code === 0) return true;
  if (/no such tag|does not exist/.test(result.stderr)) return false;
  throw new Error(`${ref.host.name}: zfs release ${ref.dataset}@${snapshot} failed: ${result.stderr.trim()}`);
}

/**
 * Snapshot -> the datasets cloned from it, in the dataset's pool, read from each dataset's
 * `origin` (zfs-fuse, pool version 23, has no `clones` property on snapshots).
 */
async function clonesByOrigin(transport: Transport, ref: DatasetRef): Promise<Map<string, string[]>> {
  const poolName = ref.dataset.split('/')[0]!;
  const out = await zfsListOk(transport, ref.host, ['zfs', 'list', '-H', '-r', '-t', 'filesystem,volume', '-o', 'name,origin', poolName]);
  const clones = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const [name, origin] = line.split('\t');
    if (name && origin && origin !== '-') clones.set(origin, [...(clones.get(origin) ?? []), name]);
  }
  return clones;
}

/** `zfs create -p PARENT` so that a full stream has somewhere to land; nothing when it exists. */
export async function ensureParentDataset(transport: Transport, ref: DatasetRef): Promise<string | undefined> {
  const parent = ref.dataset.split('/').slice(0, -1).join('/');
  if (!parent.includes('/')) return undefined; // the pool itself
  const exists = await zfsRun(transport, ref.host, ['zfs', 'get', '-H', '-o', 'value', 'type', parent]);
  if (exists.code === 0) return undefined;
  await zfsOutput(transport, ref.host, ['zfs', 'create', '-p', parent]);
  return parent;
}

/** The dataset activities over one transport. A factory, as Temporal's samples make them: its length is that of its short activities. */
export function createDatasetActivities(deps: { transport: Transport }) {
  const { transport } = deps;

  return {
    /**
     * `zfs snapshot [-r] dataset@name`, unless it exists. Returns the snapshot as ZFS reports it and
     * the dataset's state read after it (what the plan needs of the source), in the same step.
     */
    async createSnapshot(input: DatasetRef & { name: string; recursive: boolean }): Promise<{ snapshot: Snapshot; created: boolean; state: DatasetState } | { taken: true }> {
      // Snapshot first and read after: one round trip less than reading first, same outcome.
      const argv = ['zfs', 'snapshot', ...(input.recursive ? ['-r'] : []), `${input.dataset}@${input.name}`];
      const result = await zfsRun(transport, input.host, argv);
      const existed = result.code !== 0 && /dataset already exists/.test(result.stderr);
      // On a first attempt the name belongs to an earlier run in the same second: the workflow
      // picks a new one. On a retry it is the snapshot the previous attempt made.
      if (existed && attemptNumber() === 1) return { taken: true };
      if (result.code !== 0 && !existed) {
        if (isMissingDataset(result.stderr, input.dataset)) {
          throw ApplicationFailure.nonRetryable(`${input.host.name}: source dataset ${input.dataset} does not exist`, Failure.SourceMissing);
        }
        throw new Error(`${input.host.name}: zfs snapshot ${input.dataset}@${input.name} failed: ${result.stderr.trim()}`);
      }
      const state = await readDatasetState(transport, input);
      const made = state.snapshots?.find((s) => s.name === input.name);
      if (!made) throw new Error(`${input.host.name}: ${input.dataset}@${input.name} was created but cannot be read back`);
      return { snapshot: made, created: !existed, state };
    },

    /** One end: pool capabilities, snapshots (null when the dataset is absent), resume token, written bytes. */
    async readDatasetState(input: DatasetRef): Promise<DatasetState> {
      return readDatasetState(transport, input);
    },

    /**
     * `zfs rollback -r dataset@base`: only ever called with the common base the planner chose, and
     * only for datasets whose policy allows it. Destroys the target's snapshots newer than the base.
     */
    async rollbackTarget(input: DatasetRef & { snapshot: string; expectedGuid: string }): Promise<{ destroyed: string[] }> {
      const snapshots = (await snapshotsOf(transport, input)) ?? [];
      const base = snapshots.find((s) => s.name === input.snapshot);
      if (!base || base.guid !== input.expectedGuid) {
        throw ApplicationFailure.nonRetryable(
          `${input.host.name}: refusing to roll back ${input.dataset}: @${input.snapshot} is not the common base (guid ${input.expectedGuid}) any more`,
          Failure.RollbackBaseChanged,
        );
      }
      const newer = snapshots.filter((s) => BigInt(s.createtxg) > BigInt(base.createtxg)).map((s) => s.name);
      await zfsOutput(transport, input.host, ['zfs', 'rollback', '-r', `${input.dataset}@${input.snapshot}`]);
      return { destroyed: newer };
    },

    /**
     * Destroys the named snapshots of one dataset. Refuses names that are not ours and guids that
     * are protected (the common base); skips snapshots already gone; keeps, and says why in one
     * line, those with a clone (clone-replica's) or a hold. Heartbeats what it destroyed, so that
     * a retry after a dead worker reports the earlier attempt's work too.
     */
    async destroySnapshots(input: DatasetRef & { names: string[]; prefix: string; protect: string[] }): Promise<{ destroyed: string[]; kept: string[] }> {
      const heartbeat = startHeartbeat<{ destroyed: string[] }>({ destroyed: [] });
      // What a dead attempt destroyed, kept in this attempt's beats too.
      const destroyed = [...(heartbeat.previous?.destroyed ?? [])];
      heartbeat.update({ destroyed: [...destroyed] });
      const kept: string[] = [];
      try {
        const [list, clones] = await Promise.all([snapshotsOf(transport, input), clonesByOrigin(transport, input)]);
        const snapshots = new Map((list ?? []).map((s) => [s.name, s]));
        for (const name of input.names) {
          const snapshot = snapshots.get(name);
          if (!snapshot) continue;
          if (!isOurs(input.prefix, name) || input.protect.includes(snapshot.guid)) {
            throw ApplicationFailure.nonRetryable(`${input.host.name}: refusing to destroy ${input.dataset}@${name}: not ours or protected`, Failure.PruneRefused);
          }
          const cloned = clones.get(`${input.dataset}@${name}`);
          if (cloned) {
            kept.push(`${name}: it has a clone (${cloned.join(', ')})`);
            continue;
          }
          if (snapshot.userrefs > 0) {
            kept.push(`${name}: it is held (${snapshot.userrefs} hold${snapshot.userrefs === 1 ? '' : 's'})`);
            continue;
          }
          const result = await zfsRun(transport, input.host, ['zfs', 'destroy', `${input.dataset}@${name}`]);
          if (result.code === 0) {
            destroyed.push(name);
            heartbeat.update({ destroyed: [...destroyed] }, true);
          } else if (/dependent clones|dataset is busy|is held/.test(result.stderr)) {
            // Cloned or held since it was read: kept, not an error.
            kept.push(`${name}: ${result.stderr.trim().split('\n')[0]}`);
          } else throw new Error(`${input.host.name}: zfs destroy ${input.dataset}@${name} failed: ${result.stderr.trim()}`);
        }
      } finally {
        heartbeat.stop();
      }
      return { destroyed, kept };
    },

    /** `zfs receive -A`: drops the partial state of an interrupted resumable receive. */
    async abortPartialReceive(input: DatasetRef): Promise<boolean> {
      const state = await readDatasetState(transport, input);
      if (!state.resumeToken) return false;
      await zfsOutput(transport, input.host, ['zfs', 'receive', '-A', input.dataset]);
      return true;
    },
  };
}
