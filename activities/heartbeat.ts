/**
 * The one way activities heartbeat. The details are sent on a fixed cadence for as long as the work
 * runs, also when nothing changed: the heartbeat timeout then only has to notice a dead worker, and
 * cancellation keeps being delivered. What matters to a retry (what was already done, which remote
 * processes were started) is sent at once, and the retry reads the dead attempt's last details.
 * Outside an activity (unit tests, scripts) it does nothing.
 */
import { activityContext } from './context';

export interface Heartbeat<T> {
  /** The last details the previous attempt of this activity sent, if any. */
  readonly previous: T | undefined;
  /** The activity's cancellation, when it runs as one. */
  readonly cancellation: AbortSignal | undefined;
  /** Sets what the next beat sends; `now` sends it at once (a retry will need it). */
  update(details: T, now?: boolean): void;
  stop(): void;
}

export const HEARTBEAT_INTERVAL_MS = 1_000;

/** The activities that send details of their own: the plain beat of `heartbeating` leaves them alone. */
const ownDetails = new WeakSet<object>();

export function startHeartbeat<T>(initial: T, intervalMs = HEARTBEAT_INTERVAL_MS): Heartbeat<T> {
  const context = activityContext();
  if (context) ownDetails.add(context);
  let details = initial;
  const timer = context ? setInterval(() => context.heartbeat(details), intervalMs) : undefined;
  return {
    previous: context?.info.heartbeatDetails as T | undefined,
    cancellation: context?.cancellationSignal,
    update(next, now = false) {
      details = next;
      if (now) context?.heartbeat(details);
    },
    stop() {
      clearInterval(timer);
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any activity's signature
type ActivityFunctions = Record<string, (...args: any[]) => Promise<unknown>>;

/**
 * Every activity of `activities` heartbeats while it runs, so that a worker that dies in one is
 * noticed after the heartbeat timeout (seconds) rather than the start-to-close timeout (minutes).
 * The beat carries the previous attempt's details on until the activity sends its own
 * (startHeartbeat), and stays silent from then on.
 */
export function heartbeating<T extends ActivityFunctions>(activities: T): T {
  const wrapped: ActivityFunctions = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args) => {
      const context = activityContext();
      // A local activity has no heartbeat: its workflow task is what the server watches.
      const timer = context && !context.info.isLocal && setInterval(() => {
        if (!ownDetails.has(context)) context.heartbeat(context.info.heartbeatDetails);
      }, HEARTBEAT_INTERVAL_MS);
      try {
        return await fn(...args);
      } finally {
        if (timer) clearInterval(timer);
      }
    };
  }
  return wrapped as T;
}
