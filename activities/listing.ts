/**
 * Read-only listings (`zfs get`, `zfs list`, `zpool get`, `zpool status`) run with an end line
 * (core/listing-end.ts), so a listing cut short is an error and never half a listing.
 */
import { randomBytes } from 'node:crypto';
import type { StorageHostRef } from '../core/hosts';
import { endMarked, readEndMarked } from '../core/listing-end';
import type { ExecOptions, ExecResult } from './ssh';
import type { Transport } from './transport';

const nonce = () => randomBytes(8).toString('hex');
const what = (host: StorageHostRef, argv: readonly string[]) => `${host.name}: ${argv.join(' ')}`;

/** Like `transport.run`: a non-zero exit is returned; a listing without its end line throws. */
export async function runListing(transport: Transport, host: StorageHostRef, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
  const n = nonce();
  const result = await transport.runScript(host, endMarked(argv, n), opts);
  const { stdout, status } = readEndMarked(result.stdout, n, what(host, argv));
  return { ...result, stdout, code: status };
}

/** Like `transport.runOk` (a non-zero exit throws its RemoteCommandError): the listing's own output. */
export async function listingOk(transport: Transport, host: StorageHostRef, argv: readonly string[], opts?: ExecOptions): Promise<string> {
  const n = nonce();
  const result = await transport.runOk(host, endMarked(argv, n), opts);
  return readEndMarked(result.stdout, n, what(host, argv)).stdout;
}
