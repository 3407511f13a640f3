/** Names shared by the worker, the CLI and the tests. */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

export const TASK_QUEUE = process.env.ESXI_ZFS_TASK_QUEUE?.trim() || 'esxi-zfs';

export function temporalAddress(): string {
  return process.env.TEMPORAL_ADDRESS?.trim() || '127.0.0.1:7233';
}

export function temporalNamespace(): string {
  return process.env.TEMPORAL_NAMESPACE?.trim() || 'default';
}

/** How the worker and the CLI secure their connection to an external Temporal. */
export interface TemporalSecurity {
  tls?: TLSConfig;
  apiKey?: string;
}

/**
 * TLS and API key for an external Temporal (a cluster with mTLS, Temporal Cloud), from the
 * variables of Temporal's own environment configuration (the CLI and SDKs read the same names):
 * TEMPORAL_TLS_CLIENT_CERT_PATH with TEMPORAL_TLS_CLIENT_KEY_PATH (mTLS),
 * TEMPORAL_TLS_SERVER_CA_CERT_PATH (a private CA), TEMPORAL_TLS_SERVER_NAME (the name the
 * server's certificate carries, when the address does not), TEMPORAL_API_KEY (TLS on unless
 * TEMPORAL_TLS=false), TEMPORAL_TLS=true|false. None set: plain gRPC, as to the embedded server.
 */
export function temporalSecurity(env: NodeJS.ProcessEnv = process.env, readFile: (file: string) => Buffer = readFileSync): TemporalSecurity {
  const get = (name: string) => env[name]?.trim() || undefined;
  const read = (name: string): Buffer | undefined => {
    const file = get(name);
    if (file === undefined) return undefined;
    try {
      return readFile(file);
    } catch (error) {
      throw new Error(`${name}=${file}: ${(error as Error).message}`, { cause: error });
    }
  };
  const flag = get('TEMPORAL_TLS')?.toLowerCase();
  if (flag !== undefined && flag !== 'true' && flag !== 'false') throw new Error(`TEMPORAL_TLS=${env.TEMPORAL_TLS}: use true or false`);
  const certVar = get('TEMPORAL_TLS_CLIENT_CERT_PATH');
  const keyVar = get('TEMPORAL_TLS_CLIENT_KEY_PATH');
  if ((certVar === undefined) !== (keyVar === undefined)) {
    throw new Error('mTLS needs both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH: set both or neither');
  }
  const tls: TLSConfig = {
    ...(certVar !== undefined && { clientCertPair: { crt: read('TEMPORAL_TLS_CLIENT_CERT_PATH')!, key: read('TEMPORAL_TLS_CLIENT_KEY_PATH')! } }),
    ...(get('TEMPORAL_TLS_SERVER_CA_CERT_PATH') !== undefined && { serverRootCACertificate: read('TEMPORAL_TLS_SERVER_CA_CERT_PATH') }),
    ...(get('TEMPORAL_TLS_SERVER_NAME') !== undefined && { serverNameOverride: get('TEMPORAL_TLS_SERVER_NAME') }),
  };
  const apiKey = get('TEMPORAL_API_KEY');
  const configured = Object.keys(tls).length > 0;
  if (flag === 'false') {
    if (configured) throw new Error('TEMPORAL_TLS=false contradicts the TEMPORAL_TLS_* settings: unset one or the other');
    return apiKey === undefined ? {} : { apiKey };
  }
  const on = flag === 'true' || configured || apiKey !== undefined;
  return { ...(on && { tls }), ...(apiKey !== undefined && { apiKey }) };
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
