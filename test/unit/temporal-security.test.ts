/** TEMPORAL_TLS_* / TEMPORAL_API_KEY -> the TLS and API key options of the worker's and the CLI's connections. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { temporalSecurity } from '../../workers/config';

const files: Record<string, string> = { '/tls/client.pem': 'CERT', '/tls/client.key': 'KEY', '/tls/ca.pem': 'CA' };
const readFile = (file: string): Buffer => {
  if (!(file in files)) throw new Error(`ENOENT: no such file or directory, open '${file}'`);
  return Buffer.from(files[file]!);
};
const security = (env: NodeJS.ProcessEnv) => temporalSecurity(env, readFile);
const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes).toString());

test('nothing set: plain gRPC, no API key', () => {
  assert.deepEqual(security({}), {});
  assert.deepEqual(security({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: ' ', TEMPORAL_API_KEY: '' }), {});
});

test('mTLS: the client pair and the private CA are read from their files, SNI override passed', () => {
  const { tls, apiKey } = security({
    TEMPORAL_TLS_CLIENT_CERT_PATH: '/tls/client.pem',
    TEMPORAL_TLS_CLIENT_KEY_PATH: '/tls/client.key',
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/tls/ca.pem',
    TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
  });
  assert.equal(apiKey, undefined);
  assert.equal(text(tls?.clientCertPair?.crt), 'CERT');
  assert.equal(text(tls?.clientCertPair?.key), 'KEY');
  assert.equal(text(tls?.serverRootCACertificate), 'CA');
  assert.equal(tls?.serverNameOverride, 'temporal.internal');
});

test('an API key (Temporal Cloud) turns TLS on with the system CAs', () => {
  assert.deepEqual(security({ TEMPORAL_API_KEY: 'k-123' }), { tls: {}, apiKey: 'k-123' });
});

test('TEMPORAL_TLS=true alone: TLS with the system CAs; false keeps an API key on plain gRPC', () => {
  assert.deepEqual(security({ TEMPORAL_TLS: 'true' }), { tls: {} });
  assert.deepEqual(security({ TEMPORAL_TLS: 'FALSE', TEMPORAL_API_KEY: 'k' }), { apiKey: 'k' });
});

test('refused: half a client pair, a contradiction, a bad flag, an unreadable file', () => {
  assert.throws(() => security({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/tls/client.pem' }), /both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/);
  assert.throws(() => security({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/tls/ca.pem' }), /TEMPORAL_TLS=false contradicts/);
  assert.throws(() => security({ TEMPORAL_TLS: 'yes' }), /TEMPORAL_TLS=yes: use true or false/);
  assert.throws(() => security({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/tls/missing.pem' }), /TEMPORAL_TLS_SERVER_CA_CERT_PATH=\/tls\/missing.pem: ENOENT/);
});
