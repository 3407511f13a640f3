/**
 * The payload codec's keys, from the environment: off unless one of these is set.
 *
 *   ESXI_ZFS_CODEC_KEYS=id:base64key[,id:base64key...]
 *   ESXI_ZFS_CODEC_KEYS_FILE=/path/to/keys      (the same entries, one a line; # comments; mode 0600 or stricter)
 *
 * A key is 32 random bytes in base64 (`openssl rand -base64 32`). The first entry encrypts; every
 * entry decrypts, chosen by the key id a payload carries: to rotate, put the new key first and keep
 * the old ones listed for as long as histories written under them are read.
 */
import { readFileSync, statSync } from 'node:fs';
import type { DataConverter } from '@temporalio/common';
import { AesGcmCodec, type CodecKeys } from './aes-gcm';

export const CODEC_KEYS_ENV = 'ESXI_ZFS_CODEC_KEYS';
export const CODEC_KEYS_FILE_ENV = 'ESXI_ZFS_CODEC_KEYS_FILE';

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** 32 bytes in standard base64: 43 characters and one `=`. */
const KEY_BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** The entries of `text` (commas or newlines between them); `source` names where they came from in errors, never a key. */
export function parseCodecKeys(text: string, source: string): CodecKeys {
  const keys = new Map<string, Buffer>();
  const entries = text.split(/[,\n]/).map((line) => line.replace(/#.*/, '').trim()).filter((line) => line !== '');
  for (const [i, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon).trim();
    const key = colon < 0 ? '' : entry.slice(colon + 1).trim();
    const where = `${source}, entry ${i + 1}`;
    if (colon < 0) throw new Error(`${where}: expected id:base64key`);
    if (!KEY_ID.test(id)) throw new Error(`${where}: the key id "${id}" must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    if (!KEY_BASE64.test(key)) throw new Error(`${where} (key id ${id}): the key must be 32 bytes in base64, 44 characters (make one with \`openssl rand -base64 32\`)`);
    if (keys.has(id)) throw new Error(`${where}: the key id ${id} is listed twice`);
    keys.set(id, Buffer.from(key, 'base64'));
  }
  const first = keys.keys().next();
  if (first.done) throw new Error(`${source} lists no key: expected id:base64key entries`);
  return { encryptWith: first.value, keys };
}

/** The configured keys, or undefined when the codec is off (neither variable set). */
export function loadCodecKeys(env: NodeJS.ProcessEnv = process.env): CodecKeys | undefined {
  const inline = env[CODEC_KEYS_ENV]?.trim() || undefined;
  const file = env[CODEC_KEYS_FILE_ENV]?.trim() || undefined;
  if (inline !== undefined && file !== undefined) throw new Error(`set ${CODEC_KEYS_ENV} or ${CODEC_KEYS_FILE_ENV}, not both`);
  if (inline !== undefined) return parseCodecKeys(inline, CODEC_KEYS_ENV);
  if (file === undefined) return undefined;
  const source = `${CODEC_KEYS_FILE_ENV}=${file}`;
  let text: string;
  let mode: number;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`, { cause: error });
  }
  if ((mode & 0o077) !== 0) {
    throw new Error(`${source} is open to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 ${file}`);
  }
  return parseCodecKeys(text, source);
}

/** The data converter the worker and every client use: the AES-GCM codec when keys are configured, else the SDK's default. */
export function codecDataConverter(keys: CodecKeys | undefined = loadCodecKeys()): DataConverter | undefined {
  return keys && { payloadCodecs: [new AesGcmCodec(keys)] };
}
