/**
 * The source's shared ssh connection to the target (OpenSSH ControlMaster), opened while a run's
 * first steps go on: the stream then starts without a handshake (~0.17 s here), and the other
 * datasets a host sends to the same neighbour in one schedule tick reuse it.
 */
import { execOk, execTrustedScript, sh, type SshPool } from '../ssh';
import type { DatasetRef } from './datasets';
import { connectionScript, type TargetConnection } from './send-command';

export interface ConnectionInput {
  source: DatasetRef;
  target: DatasetRef;
  user: string;
  ciphers: string[];
}

/** The replication user's way from the source to the target; its key and known_hosts live in its home. */
export function targetConnection(input: { target: DatasetRef; user: string; ciphers: string[] }, home: string): TargetConnection {
  return {
    user: input.user,
    address: input.target.host.storageAddress,
    port: input.target.host.port ?? 22,
    identityFile: `${home}/.ssh/id_ed25519`,
    knownHostsFile: `${home}/.ssh/known_hosts`,
    ciphers: input.ciphers,
  };
}

export function createConnectionActivities(deps: { pool: SshPool }) {
  const { pool } = deps;
  return {
    /**
     * Opens the shared connection, or finds it open. Never fails a run: without it each stream
     * connects by itself, and reports its own errors.
     */
    async openStreamConnection(input: ConnectionInput): Promise<{ connection: 'reused' | 'opened' | 'direct' | 'no replication user' }> {
      const home = (await execOk(pool, input.source.host, sh`getent passwd ${input.user} | cut -d: -f6`, { timeoutMs: 30_000 })).stdout.trim();
      if (!home.startsWith('/')) return { connection: 'no replication user' };
      const result = await execTrustedScript(pool, input.source.host, connectionScript(targetConnection(input, home)), { timeoutMs: 60_000 });
      const said = result.stdout.trim();
      return { connection: said === 'reused' || said === 'opened' ? said : 'direct' };
    },
  };
}
