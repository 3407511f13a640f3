/**
 * The codec server over real HTTP on loopback, as the Temporal UI calls it: CORS preflight from the
 * UI's origin, POST /decode and /encode with proto3-JSON payloads (base64 metadata and data) and
 * X-Namespace; refusals for other origins, namespaces, methods, paths and bodies.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmCodec, ENCODING_ENCRYPTED } from '../../workers/codec/aes-gcm';
import { parseCodecKeys } from '../../workers/codec/keys';
import { startCodecServer, type CodecServer } from '../../workers/codec/server';

const UI = 'http://127.0.0.1:8233';
const codec = new AesGcmCodec(parseCodecKeys(`k1:${randomBytes(32).toString('base64')}`, 'test'));
let server: CodecServer;

before(async () => {
  server = await startCodecServer({ codec, origins: [UI, 'http://localhost:8233/'], namespaces: ['default'] });
});
after(async () => {
  await server?.close();
});

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const toJson = (p: Payload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(p.data!) });
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: UI, 'X-Namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

test('binds to loopback by default', () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('CORS preflight from the UI\'s origin allows POST with Content-Type, X-Namespace and Authorization; another origin is refused', async () => {
  for (const origin of [UI, 'http://localhost:8233']) {
    const res = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(res.headers.get('access-control-allow-methods')!, /\bPOST\b/);
    const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/);
    for (const header of ['content-type', 'x-namespace', 'authorization']) assert.ok(allowed.includes(header), header);
    assert.match(res.headers.get('vary')!, /Origin/);
  }
  const other = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } });
  assert.equal(other.status, 403);
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  assert.equal((await post('/decode', { payloads: [] }, { Origin: 'http://evil.example' })).status, 403);
});

test('/decode gives back the values the worker encrypted, and passes plain payloads through; /encode encrypts what /decode reads', async () => {
  const secret = { host: 'st-san-secret-01', pool: 'tank' };
  const plain = defaultPayloadConverter.toPayload('not encrypted');
  const encrypted = await codec.encode([defaultPayloadConverter.toPayload(secret)]);
  const res = await post('/decode', { payloads: [...encrypted.map(toJson), toJson(plain)] });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), UI);
  const decoded = ((await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads;
  assert.equal(Buffer.from(decoded[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
  assert.deepEqual(defaultPayloadConverter.fromPayload(fromJson(decoded[0]!)), secret);
  assert.equal(defaultPayloadConverter.fromPayload(fromJson(decoded[1]!)), 'not encrypted');

  // Under a namespace segment too, as the temporal CLI's --codec-endpoint http://host/{namespace} calls it.
  const enc = await post('/default/encode', { payloads: [toJson(defaultPayloadConverter.toPayload(secret))] }, { 'X-Namespace': '' });
  assert.equal(enc.status, 200);
  const [encoded] = ((await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads;
  assert.equal(Buffer.from(encoded!.metadata.encoding!, 'base64').toString(), ENCODING_ENCRYPTED);
  assert.ok(!Buffer.from(encoded!.data, 'base64').includes('st-san-secret-01'));
  assert.deepEqual(defaultPayloadConverter.fromPayload((await codec.decode([fromJson(encoded!)]))[0]!), secret);
});

test('refusals: another namespace, a payload under an unknown key, bad bodies, other methods and paths', async () => {
  const other = await post('/decode', { payloads: [] }, { 'X-Namespace': 'prod' });
  assert.equal(other.status, 403);
  assert.match(await other.text(), /namespace prod is not served here/);

  const foreign = await new AesGcmCodec(parseCodecKeys(`gone:${randomBytes(32).toString('base64')}`, 't')).encode([defaultPayloadConverter.toPayload(1)]);
  const unknown = await post('/decode', { payloads: foreign.map(toJson) });
  assert.equal(unknown.status, 422);
  assert.match(await unknown.text(), /key id "gone", which is not configured/);

  assert.equal((await post('/decode', '{not json')).status, 400);
  assert.equal((await post('/decode', { nope: [] })).status, 400);
  const notBase64 = await post('/decode', { payloads: [{ metadata: { encoding: 'json/plain' }, data: '' }] });
  assert.equal(notBase64.status, 400);
  assert.match(await notBase64.text(), /payloads\[0\]\.metadata\.encoding is not base64/);
  assert.equal((await fetch(`${server.url}/decode`, { headers: { Origin: UI } })).status, 405);
  assert.equal((await post('/a/b/decode', { payloads: [] })).status, 404);
});
