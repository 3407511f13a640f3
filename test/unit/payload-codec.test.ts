/** The AES-256-GCM payload codec and its keys: round trip, rotation by key id, refusals, pass-through; keys from the environment or a 0600 file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmCodec, ENCODING_ENCRYPTED, METADATA_KEY_ID } from '../../workers/codec/aes-gcm';
import { CODEC_KEYS_ENV, CODEC_KEYS_FILE_ENV, codecDataConverter, loadCodecKeys, parseCodecKeys } from '../../workers/codec/keys';

const key = () => randomBytes(32).toString('base64');
const OLD = key();
const NEW = key();
const codec = (spec: string) => new AesGcmCodec(parseCodecKeys(spec, 'test'));
const payload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const value = (p: Payload) => defaultPayloadConverter.fromPayload(p);
const meta = (p: Payload, name: string) => Buffer.from(p.metadata![name]!).toString();
/** A payload as comparable text: Buffers and Uint8Arrays alike. */
const hex = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('hex')])),
  data: Buffer.from(p.data ?? []).toString('hex'),
});
const SECRET = { host: 'st-san-secret-01', pool: 'tank' };

test('encode then decode gives every payload back, metadata and all; the stored bytes are neither the value nor alike twice', async () => {
  const c = codec(`k1:${NEW}`);
  const plain = [payload(SECRET), payload('st-san-secret-01'), payload(null), defaultPayloadConverter.toPayload(new Uint8Array([1, 2, 3]))];
  const encoded = await c.encode(plain);
  for (const p of encoded) {
    assert.equal(meta(p, 'encoding'), ENCODING_ENCRYPTED);
    assert.equal(meta(p, METADATA_KEY_ID), 'k1');
    assert.deepEqual(Object.keys(p.metadata!).sort(), ['encoding', METADATA_KEY_ID].sort(), 'nothing of the original metadata shows');
    assert.ok(!Buffer.from(p.data!).includes('st-san-secret-01'));
  }
  assert.notDeepEqual(encoded[0]!.data, (await c.encode([plain[0]!]))[0]!.data, 'a fresh nonce each time');
  const decoded = await c.decode(encoded);
  assert.deepEqual(decoded.map(hex), plain.map(hex));
  assert.deepEqual(value(decoded[0]!), SECRET);
  assert.deepEqual(value(decoded[3]!), new Uint8Array([1, 2, 3]));
});

test('rotation: the first key encrypts, an older listed key still decrypts what it wrote', async () => {
  const before = await codec(`old:${OLD}`).encode([payload(SECRET)]);
  const rotated = codec(`new:${NEW}, old:${OLD}`);
  assert.deepEqual(value((await rotated.decode(before))[0]!), SECRET);
  const after = await rotated.encode([payload(SECRET)]);
  assert.equal(meta(after[0]!, METADATA_KEY_ID), 'new');
  await assert.rejects(codec(`old:${OLD}`).decode(after), /key id "new", which is not configured \(configured: old\)/);
});

test('a payload under a key id not configured is refused, naming the id', async () => {
  const encoded = await codec(`retired-2025:${OLD}`).encode([payload(SECRET)]);
  await assert.rejects(codec(`k1:${NEW}`).decode(encoded), (error: Error) => {
    assert.match(error.message, /"retired-2025"/);
    assert.match(error.message, /ESXI_ZFS_CODEC_KEYS/);
    return true;
  });
});

test('altered ciphertext, nonce, tag or key id, and a different key under the same id, are refused', async () => {
  const c = codec(`k1:${NEW},k2:${OLD}`);
  const [good] = await c.encode([payload(SECRET)]);
  const flip = (at: number): Payload => {
    const data = Buffer.from(good!.data!);
    data[at < 0 ? data.length + at : at]! ^= 1;
    return { ...good, data };
  };
  for (const bad of [flip(0), flip(20), flip(-1)]) await assert.rejects(c.decode([bad]), /key id "k1" fails authentication/);
  // The key id is bound in: relabelling a payload with another configured id does not get it decrypted.
  await assert.rejects(c.decode([{ ...good, metadata: { ...good!.metadata, [METADATA_KEY_ID]: Buffer.from('k2') } }]), /key id "k2" fails authentication/);
  await assert.rejects(codec(`k1:${OLD}`).decode([good!]), /fails authentication/);
  await assert.rejects(c.decode([{ ...good, data: Buffer.alloc(10) }]), /too short/);
  await assert.rejects(c.decode([{ metadata: { encoding: Buffer.from(ENCODING_ENCRYPTED) }, data: good!.data }]), /no encryption-key-id/);
});

test('payloads that are not encrypted (written before the codec was on) pass through decode untouched', async () => {
  const plain = [payload(SECRET), payload(undefined), { metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.from('x') }];
  const decoded = await codec(`k1:${NEW}`).decode(plain);
  plain.forEach((p, i) => assert.equal(decoded[i], p));
});

test('keys: id:base64 entries, by commas or lines, with comments; the first encrypts', () => {
  const keys = parseCodecKeys(`# rotated 2026-12\nnew:${NEW}\n\nold:${OLD}  # until 2027-06\n`, 'file');
  assert.equal(keys.encryptWith, 'new');
  assert.deepEqual([...keys.keys.keys()], ['new', 'old']);
  assert.deepEqual(keys.keys.get('old'), Buffer.from(OLD, 'base64'));
  assert.equal(parseCodecKeys(`a:${OLD},b:${NEW}`, 'env').encryptWith, 'a');
});

test('keys: a bad entry is refused with where it is, never the key', () => {
  const cases: [string, RegExp][] = [
    [NEW, /entry 1: expected id:base64key/],
    [`k1:${NEW.slice(0, 40)}`, /key id k1\): the key must be 32 bytes in base64/],
    [`k1:${randomBytes(16).toString('base64')}`, /32 bytes/],
    [`k1:${NEW.replace(/.=$/, 'B=')}`, /32 bytes/],
    [`k1:${NEW},k1:${OLD}`, /entry 2: the key id k1 is listed twice/],
    [`bad id:${NEW}`, /the key id "bad id" must be/],
    [' # nothing\n', /lists no key/],
  ];
  for (const [spec, error] of cases) {
    assert.throws(() => parseCodecKeys(spec, 'src'), (e: Error) => {
      assert.match(e.message, /^src/);
      assert.match(e.message, error);
      assert.ok(!e.message.includes(NEW) && !e.message.includes(NEW.slice(0, 40)), e.message);
      return true;
    });
  }
});

test('keys from the environment: off when unset, from the variable, or from a file only when it is 0600', () => {
  assert.equal(loadCodecKeys({}), undefined);
  assert.equal(codecDataConverter(loadCodecKeys({ [CODEC_KEYS_ENV]: ' ' })), undefined);
  assert.equal(loadCodecKeys({ [CODEC_KEYS_ENV]: `k1:${NEW}` })?.encryptWith, 'k1');
  assert.ok(codecDataConverter(loadCodecKeys({ [CODEC_KEYS_ENV]: `k1:${NEW}` }))?.payloadCodecs?.[0] instanceof AesGcmCodec);

  const dir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-codec-'));
  try {
    const file = path.join(dir, 'keys');
    writeFileSync(file, `k2:${OLD}\n`, { mode: 0o600 });
    assert.equal(loadCodecKeys({ [CODEC_KEYS_FILE_ENV]: file })?.encryptWith, 'k2');
    chmodSync(file, 0o640);
    assert.throws(() => loadCodecKeys({ [CODEC_KEYS_FILE_ENV]: file }), new RegExp(`is open to group or others \\(mode 0640\\): chmod 600 ${file}`));
    assert.throws(() => loadCodecKeys({ [CODEC_KEYS_FILE_ENV]: path.join(dir, 'missing') }), /ESXI_ZFS_CODEC_KEYS_FILE=.*missing: ENOENT/);
    assert.throws(() => loadCodecKeys({ [CODEC_KEYS_ENV]: `k1:${NEW}`, [CODEC_KEYS_FILE_ENV]: file }), /not both/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
