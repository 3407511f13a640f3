/**
 * `applySchedules` makes the namespace match the inventory: it creates what is missing, updates
 * what differs, leaves equal schedules untouched (re-applying changes nothing on the server), and
 * deletes every `esxi-zfs:replicate:*` schedule the inventory no longer asks for. So ONE TEMPORAL
 * NAMESPACE HOLDS ONE INVENTORY'S SCHEDULES: applying a second inventory in the same namespace
 * deletes the first one's. Give each cluster its own namespace (TEMPORAL_NAMESPACE).
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { SCHEDULE_ID_PREFIX, type DesiredSchedule } from './desired';
import { scheduleDifferences } from './differences';

export interface ApplyResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
  /** Why each updated schedule was updated. */
  changes: Record<string, string[]>;
}

/** Ids of the schedules this product manages in the client's namespace (listing is eventually consistent). */
export async function managedScheduleIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith(SCHEDULE_ID_PREFIX)) ids.push(summary.scheduleId);
  }
  return ids.sort();
}

/** The schedule's description, or undefined when there is no such schedule. */
export async function describeOrUndefined(client: Client, scheduleId: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Makes the namespace's replication schedules match the desired ones. Equal schedules are not
 * touched at all. With `prune` (the whole inventory's schedules: see the module comment, one
 * namespace, one inventory), every other managed schedule is deleted; without it (a subset, as
 * provisioning some hosts gives) nothing else is.
 */
export async function applySchedules(client: Client, desired: DesiredSchedule[], opts: { prune: boolean }): Promise<ApplyResult> {
  const result: ApplyResult = { created: [], updated: [], unchanged: [], deleted: [], changes: {} };
  const wanted = new Set(desired.map((d) => d.scheduleId));
  const existing = opts.prune ? await managedScheduleIds(client) : [];

  for (const want of desired) {
    const handle = client.schedule.getHandle(want.scheduleId);
    let actual = await describeOrUndefined(client, want.scheduleId);
    if (!actual) {
      try {
        await client.schedule.create(want.options);
        result.created.push(want.scheduleId);
        continue;
      } catch (error) {
        if (!(error instanceof ScheduleAlreadyRunning)) throw error;
        actual = await handle.describe(); // created concurrently: compare with it
      }
    }
    const changes = scheduleDifferences(want, actual);
    const pauseTo = want.paused !== undefined && want.paused !== actual.state.paused ? want.paused : undefined;
    if (changes.length > 0) {
      await handle.update((previous) => ({
        spec: want.options.spec,
        action: want.options.action,
        policies: want.options.policies,
        state: {
          paused: pauseTo ?? previous.state.paused,
          note: pauseTo === undefined ? previous.state.note : `esxi-zfs schedules apply: the inventory says paused: ${pauseTo}`,
          remainingActions: previous.state.remainingActions,
        },
      }));
    } else if (pauseTo === true) {
      await handle.pause('esxi-zfs schedules apply: the inventory says paused: true');
    } else if (pauseTo === false) {
      await handle.unpause('esxi-zfs schedules apply: the inventory says paused: false');
    }
    if (pauseTo !== undefined) changes.push(`paused: ${actual.state.paused} -> ${pauseTo}`);
    if (changes.length > 0) {
      result.updated.push(want.scheduleId);
      result.changes[want.scheduleId] = changes;
    } else {
      result.unchanged.push(want.scheduleId);
    }
  }

  for (const id of existing) {
    if (wanted.has(id)) continue;
    try {
      await client.schedule.getHandle(id).delete();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error; // deleted meanwhile: fine
    }
    result.deleted.push(id);
  }
  return result;
}
