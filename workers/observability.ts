/**
 * The worker process's telemetry: the Temporal Runtime (once per process) with its Prometheus
 * endpoint and its logger, which the SDK, workflow `log` and activity `log` all write through, with
 * the ids it attaches (workflowId, runId, activityId, activityType, taskQueue).
 */
import { DefaultLogger, Runtime, type LogEntry, type Logger } from '@temporalio/worker';
import { HISTOGRAM_BUCKETS } from '../core/metrics';

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9464';

export type LogFormat = 'text' | 'json';

export interface MetricsSetting {
  /** `host:port` to serve /metrics on; undefined: no endpoint. */
  address: string | undefined;
  /** The operator asked for this address (option or environment), rather than the default. */
  explicit: boolean;
}

/** The metrics address from `--metrics-address`, else ESXI_ZFS_METRICS_ADDRESS, else the default; `off` disables. */
export function metricsSetting(option: string | undefined, env: string | undefined): MetricsSetting {
  const given = option?.trim() || env?.trim();
  if (!given) return { address: DEFAULT_METRICS_ADDRESS, explicit: false };
  if (given.toLowerCase() === 'off') return { address: undefined, explicit: true };
  if (!/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):\d{1,5}$/.test(given) || Number(given.split(':').at(-1)) > 65535) {
    throw new Error(`metrics address ${JSON.stringify(given)}: expected IP:PORT (e.g. ${DEFAULT_METRICS_ADDRESS}, [::1]:9464, 0.0.0.0:9464) or off`);
  }
  return { address: given.replace(/^localhost:/, '127.0.0.1:'), explicit: true };
}

/** ESXI_ZFS_LOG_FORMAT: `json` for one JSON object per line, else the SDK's readable lines. */
export function logFormat(env: string | undefined): LogFormat {
  const value = env?.trim().toLowerCase() || 'text';
  if (value !== 'text' && value !== 'json') throw new Error(`ESXI_ZFS_LOG_FORMAT=${env}: expected json or text`);
  return value;
}

/** Errors as their type, message and stack (JSON.stringify gives `{}`), bigints as strings. */
function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { type: value.name, message: value.message, stack: value.stack, ...(value.cause !== undefined ? { cause: value.cause } : {}) };
  }
  return typeof value === 'bigint' ? value.toString() : value;
}

/** One log entry as one JSON line: time (ISO, ms), level, message, then the entry's attributes. */
export function jsonLogLine(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return JSON.stringify({ time, level: entry.level, message: entry.message, ...entry.meta }, jsonValue) + '\n';
}

export interface InstalledRuntime {
  logger: Logger;
  /** Where /metrics is served; undefined when off or when the default address was taken. */
  metricsAddress: string | undefined;
  /** Why the endpoint is off though metrics were not turned off (the default address in use). */
  metricsWarning?: string;
}

/**
 * Installs the process's Temporal Runtime: call once, before any NativeConnection or Worker.
 * An explicit metrics address that cannot be bound fails the start; the default one, taken (by
 * another worker on this machine), leaves the worker running without metrics and says so.
 */
export function installRuntime(opts: { metrics: MetricsSetting; logFormat: LogFormat }): InstalledRuntime {
  const logger = opts.logFormat === 'json'
    ? new DefaultLogger('INFO', (entry) => process.stderr.write(jsonLogLine(entry)))
    : new DefaultLogger('INFO');
  // The SDK's native side logs through the same logger (and format) instead of its own console.
  const logging = { filter: { core: 'WARN' as const, other: 'ERROR' as const }, forward: {} };
  const install = (bindAddress: string | undefined) => Runtime.install({
    logger,
    telemetryOptions: {
      logging,
      ...(bindAddress
        ? { metrics: { prometheus: { bindAddress, useSecondsForDurations: true, histogramBucketOverrides: HISTOGRAM_BUCKETS } } }
        : {}),
    },
  });
  const { address, explicit } = opts.metrics;
  try {
    install(address);
    return { logger, metricsAddress: address };
  } catch (error) {
    const message = (error as Error).message;
    if (!address || !/prometheus/i.test(message)) throw error;
    const why = `metrics endpoint ${address}: ${message}`;
    if (explicit) throw new Error(`${why}; choose another with --metrics-address or ESXI_ZFS_METRICS_ADDRESS, or turn it off with "off"`, { cause: error });
    install(undefined);
    return { logger, metricsAddress: undefined, metricsWarning: `${why}; running without metrics (set --metrics-address to another port)` };
  }
}
