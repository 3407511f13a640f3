/**
 * The source's shared ssh connection to the target, as the replication user (its key and
 * known_hosts are in its home): opened at the start of a run so that the stream finds it
 * authenticated, closed when the target refused the login (send-command.ts).
 */
import type { Transport } from '../transport';
import { closerScript, openerScript, type TargetConnection } from './send-command';
import type { DatasetRef } from './datasets';

export interface SharedConnectionInput {
  source: DatasetRef;
  target: DatasetRef;
  user: string;
  ciphers: string[];
}

/** The replication user's way from the source to the target (its key and known_hosts are in its home). */
export function targetConnection(input: SharedConnectionInput): Omit<TargetConnection, 'home'> {
  return { user: input.user, address: input.target.host.storageAddress, port: input.target.host.port ?? 22, ciphers: input.ciphers };
}

/** Starts the connection and returns at once; never throws (`direct: why` when it could not). */
export async function openSharedConnection(transport: Transport, input: SharedConnectionInput): Promise<{ connection: string }> {
  try {
    return { connection: (await transport.runOk(input.source.host, openerScript(targetConnection(input)), { timeoutMs: 30_000 })).stdout.trim() };
  } catch (error) {
    return { connection: `direct: ${(error as Error).message.split('\n')[0]}` };
  }
}

/**
 * Stops the shared connection: a refused login or command may come from a connection older than
 * the trust, and the run after the operator's `trust` must log in anew. Never throws.
 */
export async function closeSharedConnection(transport: Transport, input: SharedConnectionInput): Promise<void> {
  await transport.runOk(input.source.host, closerScript(targetConnection(input)), { timeoutMs: 30_000 }).catch(() => undefined);
}
