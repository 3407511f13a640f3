/**
 * Room on the target for a stream, read before it is sent. zfs-fuse (pool version 23) has neither
 * `zfs send -n` nor `written@`, so the stream is estimated from the source snapshots' `referenced`:
 * a full stream needs about the snapshot's referenced bytes; an incremental at least the growth
 * from the base (a file rewritten in place grows nothing, so this is a lower bound, and the
 * receive's own "out of space" catches the rest).
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failure } from '../../core/failures';
import type { Transport } from '../transport';
import { runListing } from '../listing';
import { guestProfile } from '../../core/guest/profile';
import { parseDatasetProps } from '../../core/zfs/parse';
import { bytes } from '../../core/zfs/plan';
import type { DatasetRef } from './datasets';
import type { StorageHostRef } from '../../core/hosts';

export interface Room {
  /** The target's pool. */
  pool: string;
  /** Estimated bytes the stream needs on the target; undefined when not estimated (a resume). */
  needed?: number;
  /** Bytes available to the target dataset (or its nearest existing ancestor) before the stream. */
  available?: number;
}

/** Source snapshot names (after `@`) whose sizes estimate the stream. */
export interface StreamEstimate {
  snapshot: string;
  base?: string;
}

/** Under three quarters of the estimate: clearly short, whatever compression does on the target. */
const CLEARLY_SHORT = 0.75;

/** `zfs get -Hp PROPERTY NAMES...` → name → bytes, for the names that exist (the others fail on stderr). */
async function sizes(transport: Transport, host: StorageHostRef, property: string, names: string[]): Promise<Map<string, number>> {
  const argv = [guestProfile(host.os).zfs, 'get', '-H', '-p', '-o', 'name,property,value', property, ...names];
  const listed = parseDatasetProps((await runListing(transport, host, argv, { timeoutMs: 60_000 })).stdout);
  return new Map(Object.entries(listed).flatMap(([name, props]) => (props[property] === undefined ? [] : [[name, Number(props[property])] as const])));
}

/** The dataset and its ancestors up to the pool, deepest first. */
function selfAndAncestors(dataset: string): string[] {
  const parts = dataset.split('/');
  return parts.map((_, i) => parts.slice(0, parts.length - i).join('/'));
}

export async function readRoom(transport: Transport, source: DatasetRef, target: DatasetRef, estimate?: StreamEstimate): Promise<Room> {
  const chain = selfAndAncestors(target.dataset);
  const snapshots = estimate ? [estimate.snapshot, ...(estimate.base ? [estimate.base] : [])].map((s) => `${source.dataset}@${s}`) : [];
  const [available, referenced] = await Promise.all([
    sizes(transport, target.host, 'available', chain),
    snapshots.length > 0 ? sizes(transport, source.host, 'referenced', snapshots) : Promise.resolve(new Map<string, number>()),
  ]);
  const room: Room = { pool: chain[chain.length - 1]! };
  const nearest = chain.find((name) => available.has(name));
  if (nearest) room.available = available.get(nearest);
  const [snapshot, base] = snapshots.map((name) => referenced.get(name));
  if (snapshot !== undefined && (estimate?.base === undefined || base !== undefined)) room.needed = Math.max(0, snapshot - (base ?? 0));
  return room;
}

export function clearlyShort(room: Room): boolean {
  return room.needed !== undefined && room.available !== undefined && room.available < room.needed * CLEARLY_SHORT;
}

const where = (source: DatasetRef, target: DatasetRef) => `${source.host.name}:${source.dataset} -> ${target.host.name}:${target.dataset}`;

function remedy(target: DatasetRef, pool: string): string {
  return `Free space in ${pool} on ${target.host.name} (destroy datasets or snapshots there that are no longer needed) or add a disk to it, or replicate to a pool with room (replicateTo.dataset in the inventory); the next run sends again.`;
}

const sizeText = (n: number | undefined) => (n === undefined ? 'an unknown amount' : bytes(n));

/** The target pool is clearly too small for the stream: refused before sending. */
export function noRoomFailure(source: DatasetRef, target: DatasetRef, room: Room): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `${where(source, target)}: not enough space: target pool ${room.pool} on ${target.host.name} has ${sizeText(room.available)} available, and the stream needs about ${sizeText(room.needed)}. Refused before sending; nothing was sent. ${remedy(target, room.pool)}`,
    Failure.TargetPoolFull,
  );
}

/** `zfs receive` ran out of space mid-stream. */
export function outOfSpaceFailure(source: DatasetRef, target: DatasetRef, room: Room, sent: number, resumable: boolean): ApplicationFailure {
  const left = resumable ? 'the partial receive stays, and the next run resumes it' : 'zfs receive kept nothing';
  return ApplicationFailure.nonRetryable(
    `${where(source, target)}: target pool ${room.pool} on ${target.host.name} ran out of space after ${bytes(sent)} of the stream (${sizeText(room.available)} available before it${room.needed ? `, about ${bytes(room.needed)} estimated` : ''}); ${left}. ${remedy(target, room.pool)}`,
    Failure.TargetPoolFull,
  );
}
