/**
 * The payload codec: every payload the worker and the CLI send to Temporal is encrypted with
 * AES-256-GCM (node:crypto) under the first configured key; any configured key decrypts, chosen by
 * the key id the payload carries. The whole original payload (its data and its metadata, the
 * original `encoding` among them) is what is encrypted, so decoding gives it back unchanged.
 *
 * An encrypted payload: metadata `encoding: binary/encrypted`, `encryption-key-id: <id>`; data
 * `nonce (12 random bytes) | ciphertext | tag (16 bytes)`, the key id bound in as associated data.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The keys by id; `encryptWith` names the one new payloads are encrypted under. */
export interface CodecKeys {
  encryptWith: string;
  keys: ReadonlyMap<string, Buffer>;
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

export class AesGcmCodec implements PayloadCodec {
  constructor(private readonly keys: CodecKeys) {
    if (!keys.keys.has(keys.encryptWith)) throw new Error(`the encryption key id ${keys.encryptWith} is not among the keys`);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const id = this.keys.encryptWith;
    const key = this.keys.keys.get(id)!;
    return payloads.map((payload) => {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(utf8(id));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { [METADATA_ENCODING_KEY]: utf8(ENCODING_ENCRYPTED), [METADATA_KEY_ID]: utf8(id) }, data };
    });
  }

  /** Payloads that are not encrypted (written before the codec was turned on) pass through untouched. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (text(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCODING_ENCRYPTED ? this.decrypt(payload) : payload));
  }

  private decrypt(payload: Payload): Payload {
    const id = text(payload.metadata?.[METADATA_KEY_ID]);
    if (id === undefined) throw new Error(`an encrypted payload has no ${METADATA_KEY_ID}: it was not written by this codec`);
    const key = this.keys.keys.get(id);
    if (!key) {
      throw new Error(`a payload is encrypted with key id "${id}", which is not configured (configured: ${[...this.keys.keys.keys()].join(', ')}); add that key to ESXI_ZFS_CODEC_KEYS or ESXI_ZFS_CODEC_KEYS_FILE`);
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new Error(`a payload encrypted with key id "${id}" is too short to be one (${data.length} bytes)`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(utf8(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error(`a payload encrypted with key id "${id}" fails authentication: it was altered, or the key configured as "${id}" is not the one it was encrypted with`);
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}
