/**
 * The CLI's Temporal client: TEMPORAL_ADDRESS (default the embedded server's 127.0.0.1:7233), with
 * TLS and an API key when the TEMPORAL_TLS_* / TEMPORAL_API_KEY variables say so, and the payload
 * codec when ESXI_ZFS_CODEC_KEYS(_FILE) configures it.
 */
import { Client, Connection } from '@temporalio/client';
import { temporalAddress, temporalNamespace, temporalSecurity } from '../workers/config';
import { codecDataConverter } from '../workers/codec/keys';

export async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const address = temporalAddress();
  const security = temporalSecurity();
  const dataConverter = codecDataConverter();
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, ...security, connectTimeout: 5_000 });
  } catch (error) {
    throw new Error(
      `cannot reach Temporal at ${address} (${(error as Error).message}); start a worker with \`esxi-zfs worker\` (it embeds a dev server) or set TEMPORAL_ADDRESS`,
      { cause: error },
    );
  }
  try {
    return await fn(new Client({ connection, namespace: temporalNamespace(), dataConverter }));
  } finally {
    await connection.close();
  }
}
