/**
 * The payload codec end to end: inspectCluster (the product's workflow and activities) on a real
 * dev server reads one ESXi host of the lab's vSphere simulator with the codec on in the client and
 * the worker. Read back without the key, the history holds only ciphertext (the host's name is
 * nowhere in its bytes, the result does not decode); with the key, the input and result read as
 * given; and the real Temporal CLI (`temporal workflow show --codec-endpoint`) reads the values
 * through `esxi-zfs codec-server`'s HTTP endpoint, and only ciphertext without it. The embedded
 * server started with a codec endpoint (`esxi-zfs worker --ui-codec-endpoint`) gives it to its UI.
 * The product's own worker process and CLI client take the key from ESXI_ZFS_CODEC_KEYS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal as proto } from '@temporalio/proto';
import { inspectCluster, probeStorageHosts } from '../../workflows';
import type { InspectClusterInput } from '../../core/status/shared';
import { AesGcmCodec, ENCODING_ENCRYPTED } from '../../workers/codec/aes-gcm';
import { codecDataConverter, parseCodecKeys } from '../../workers/codec/keys';
import { startCodecServer, type CodecServer } from '../../workers/codec/server';
import { resolveTemporalCli } from '../../workers/temporal-binaries';
import { startVsphereSim, type VsphereSim } from '../../lab/vsphere';
import { startDevServer } from '../../workers/dev-server';
import { withClient } from '../../scripts/temporal-client';
import { freePorts, startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { recorded } from '../helpers/reliability';

const execFileAsync = promisify(execFile);
const HOST = `esxi-codec-secret-${randomBytes(4).toString('hex')}`;
const PASSWORD_ENV = 'ESXI_ZFS_CODEC_TEST_VSPHERE_PASSWORD';
const KEY_SPEC = `test-1:${randomBytes(32).toString('base64')}`;
const keys = parseCodecKeys(KEY_SPEC, 'test');
const CLI = path.join(__dirname, '../../bin/esxi-zfs.js');
const dir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-codec-'));
let sim: VsphereSim;
let temporal: TestTemporal;
let codecServer: CodecServer;

before(async () => {
  sim = await startVsphereSim({ dir: path.join(dir, 'vsphere'), hosts: [{ name: HOST, address: '10.213.77.1' }] });
  process.env[PASSWORD_ENV] = sim.password;
  temporal = await startTestTemporal('codec', { dataConverter: codecDataConverter(keys) });
  codecServer = await startCodecServer({ codec: new AesGcmCodec(keys), origins: [temporal.server.uiUrl] });
});

after(async () => {
  await codecServer?.close();
  await temporal?.stop();
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every Payload in a decoded protobuf message: objects with `data` and a `metadata.encoding`. */
function payloadsIn(node: unknown, found: Payload[] = []): Payload[] {
  if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) return found;
  const candidate = node as Payload;
  if (candidate.metadata?.encoding && 'data' in candidate) found.push(candidate);
  else for (const child of Object.values(node)) payloadsIn(child, found);
  return found;
}

/** The payloads of `temporal workflow show --output json` (proto JSON: metadata values and data in base64). */
function cliPayloads(node: unknown, found: { encoding: string; data: Buffer }[] = []): { encoding: string; data: Buffer }[] {
  if (node === null || typeof node !== 'object') return found;
  const candidate = node as { metadata?: { encoding?: string }; data?: string };
  if (typeof candidate.metadata?.encoding === 'string') {
    found.push({ encoding: Buffer.from(candidate.metadata.encoding, 'base64').toString(), data: Buffer.from(candidate.data ?? '', 'base64') });
  } else for (const child of Object.values(node)) cliPayloads(child, found);
  return found;
}

test('with the codec on, the history is ciphertext to a client without the key and the values to one with it, and to the Temporal CLI through the codec server', recorded('codec/history-ciphertext', async (r) => {
  const input: InspectClusterInput = {
    hosts: [{
      name: HOST,
      esxi: { host: { name: HOST, vsphere: { url: sim.url, credential: { user: sim.username, passwordEnv: PASSWORD_ENV }, thumbprint: sim.thumbprint } }, datastores: [] },
    }],
  };
  const workflowId = `codec-test-${process.pid}`;
  const result = await temporal.withWorker(() => temporal.client.workflow.execute(inspectCluster, {
    taskQueue: temporal.taskQueue, workflowId, args: [input], memo: { host: HOST }, staticSummary: `inspect ${HOST}`,
  }));
  assert.equal(result.hosts[0]!.esxi?.state?.name, HOST, 'the activity read the host: the worker decrypted its input');
  assert.equal(result.hosts[0]!.esxi?.state?.connectionState, 'connected');

  // Without the key: every payload in the history (input, activity inputs and results, result, memo, summary) is ciphertext.
  const plain = new Client({ connection: temporal.client.connection, namespace: temporal.server.namespace });
  const history = await plain.workflow.getHandle(workflowId).fetchHistory();
  const raw = Buffer.from(proto.api.history.v1.History.encode(history).finish());
  assert.ok(!raw.includes(HOST), 'the host name is nowhere in the history\'s bytes');
  const payloads = payloadsIn(history);
  assert.ok(payloads.length >= 6, `payloads found: ${payloads.length}`);
  for (const p of payloads) assert.equal(Buffer.from(p.metadata!.encoding!).toString(), ENCODING_ENCRYPTED);
  await assert.rejects(plain.workflow.getHandle(workflowId).result(), /binary\/encrypted/);
  await assert.rejects(plain.workflow.getHandle(workflowId).describe(), /binary\/encrypted/, 'the memo is ciphertext too');
  r.happened(`Without the key, all ${payloads.length} payloads of the history (input, activity inputs and results, result, memo, summary) are binary/encrypted.`);
  r.verified('the host name is nowhere in the history\'s bytes read without the key');

  // With the key: the started event's input and the result read as given.
  const started = history.events!.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!;
  const codec = new AesGcmCodec(keys);
  assert.deepEqual(defaultPayloadConverter.fromPayload((await codec.decode(started.input!.payloads as Payload[]))[0]!), input);
  assert.deepEqual(await temporal.client.workflow.getHandle(workflowId).result(), result);
  const description = await temporal.client.workflow.getHandle(workflowId).describe();
  assert.deepEqual(description.memo, { host: HOST });
  assert.equal(await description.staticSummary(), `inspect ${HOST}`);

  // The Temporal CLI, as an operator would run it: ciphertext alone; the values through the codec server.
  const cli = resolveTemporalCli();
  const show = async (extra: string[]) => (await execFileAsync(cli, [
    'workflow', 'show', '--workflow-id', workflowId, '--address', temporal.server.address, '--namespace', temporal.server.namespace, '--output', 'json', ...extra,
  ], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  const withoutCodec = cliPayloads(JSON.parse(await show([])));
  assert.ok(withoutCodec.length >= 6);
  for (const p of withoutCodec) {
    assert.equal(p.encoding, ENCODING_ENCRYPTED);
    assert.ok(!p.data.includes(HOST));
  }
  const withCodec = cliPayloads(JSON.parse(await show(['--codec-endpoint', codecServer.url])));
  assert.equal(withCodec.length, withoutCodec.length);
  assert.deepEqual(new Set(withCodec.map((p) => p.encoding)), new Set(['json/plain']), 'every payload decoded through the codec server');
  assert.ok(withCodec.some((p) => JSON.parse(p.data.toString()).hosts?.[0]?.name === HOST), 'the input reads as given');
  assert.ok(withCodec.some((p) => p.data.toString() === JSON.stringify(HOST)), 'the memo reads as given');
  r.verified('with the key (client codec, and `temporal workflow show --codec-endpoint`) the input, result and memo read as given');
}));

test('the embedded server hands --ui-codec-endpoint to its Web UI, whose origin the codec server lets in', async () => {
  const ports = await freePorts(new Set([Number(temporal.server.address.split(':').at(-1))]));
  const uiOrigin = `http://127.0.0.1:${ports.uiPort}`;
  const forUi = await startCodecServer({ codec: new AesGcmCodec(keys), origins: [uiOrigin] });
  const server = await startDevServer({ dbFile: path.join(dir, 'ui', 'temporal.sqlite'), ...ports, uiCodecEndpoint: forUi.url });
  try {
    const settings = (await (await fetch(`${server.uiUrl}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
    assert.equal(settings.Codec.Endpoint, forUi.url);
    const preflight = await fetch(`${settings.Codec.Endpoint}/decode`, {
      method: 'OPTIONS', headers: { Origin: uiOrigin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), uiOrigin);
  } finally {
    await server.stop();
    await forUi.close();
  }
});

test('`esxi-zfs worker` and the CLI\'s client encrypt with the key of ESXI_ZFS_CODEC_KEYS', { timeout: 240_000 }, async () => {
  const taskQueue = `codec-worker-${process.pid}`;
  const env = {
    ...process.env, ESXI_ZFS_CODEC_KEYS: KEY_SPEC, ESXI_ZFS_TASK_QUEUE: taskQueue,
    TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace,
  };
  let worker: ChildProcess | undefined;
  let output = '';
  const saved = { ...process.env };
  try {
    worker = spawn(CLI, ['worker', '--metrics-address', 'off'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = worker;
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/^worker running on /m.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it ran:\n${output}`)));
    });
    assert.match(output, /payloads encrypted \(AES-256-GCM\) with key id test-1/);

    // The CLI's client (scripts/temporal-client.ts) reads the same variables.
    Object.assign(process.env, { ESXI_ZFS_CODEC_KEYS: KEY_SPEC, TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace });
    const workflowId = `codec-worker-test-${process.pid}`;
    const result = await withClient((client) => client.workflow.execute(probeStorageHosts, { taskQueue, workflowId, args: [{ hosts: [] }], workflowExecutionTimeout: '60 seconds' }));
    assert.deepEqual(result, [], 'the worker decrypted the input and the client the result');

    const history = await new Client({ connection: temporal.client.connection, namespace: temporal.server.namespace }).workflow.getHandle(workflowId).fetchHistory();
    const payloads = payloadsIn(history);
    assert.ok(payloads.length >= 2);
    for (const p of payloads) {
      assert.equal(Buffer.from(p.metadata!.encoding!).toString(), ENCODING_ENCRYPTED);
      assert.equal(Buffer.from(p.metadata!['encryption-key-id']!).toString(), 'test-1');
    }
  } finally {
    process.env = saved;
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const exit = new Promise<number | null>((resolve) => worker!.once('exit', (code) => resolve(code)));
      worker.kill('SIGTERM');
      assert.equal(await exit, 0, output);
    }
  }
});
