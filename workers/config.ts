/** Names shared by the worker, the CLI and the tests. */
export const TASK_QUEUE = process.env.ESXI_ZFS_TASK_QUEUE?.trim() || 'esxi-zfs';

export function temporalAddress(): string {
  return process.env.TEMPORAL_ADDRESS?.trim() || '127.0.0.1:7233';
}

export function temporalNamespace(): string {
  return process.env.TEMPORAL_NAMESPACE?.trim() || 'default';
}

export function temporalUiUrl(): string {
  return process.env.TEMPORAL_UI_URL?.trim() || 'http://127.0.0.1:8233';
}

export function workflowUiLink(workflowId: string, runId?: string): string {
  const base = `${temporalUiUrl()}/namespaces/${encodeURIComponent(temporalNamespace())}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}

/**
 * Heartbeats reach the server at most this often. The SDK's default (80 % of the heartbeat
 * timeout) would make a cancelled stream run on for tens of seconds and the progress display lag.
 */
export const MAX_HEARTBEAT_THROTTLE = '1 second';
