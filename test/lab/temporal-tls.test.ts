/**
 * mTLS for real, from the environment variables alone: the CLI and `esxi-zfs worker` reach a dev
 * server through a TLS front that asks for a client certificate signed by a private CA (the dev
 * server itself has no TLS), as they would a Temporal cluster with mTLS. Certificates made with
 * openssl in a temporary folder; without the client pair the front refuses the connection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { TASK_QUEUE, temporalSecurity } from '../../workers/config';
import type { DevServer } from '../../workers/dev-server';
import { startOnFreePorts } from '../helpers/temporal';

const run = promisify(execFile);
const CLI = path.join(__dirname, '../../bin/esxi-zfs.js');

/** A CA, a server certificate for localhost and a client certificate, all signed by the CA. */
function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=esxi-zfs test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const name of ['server', 'client']) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  }
}

/** TLS in front of `target`: only clients with a certificate from the CA get through, to plain TCP. */
function mtlsFront(dir: string, target: { host: string; port: number }): Promise<tls.Server> {
  const server = tls.createServer({
    key: readFileSync(path.join(dir, 'server.key')),
    cert: readFileSync(path.join(dir, 'server.pem')),
    ca: readFileSync(path.join(dir, 'ca.pem')),
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: ['h2'],
  }, (front) => {
    const back = net.connect(target);
    front.pipe(back).pipe(front);
    front.on('error', () => back.destroy());
    back.on('error', () => front.destroy());
  });
  server.on('tlsClientError', () => undefined);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('Temporal over mTLS, configured by TEMPORAL_TLS_* only', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-tls-'));
  let server: DevServer;
  let front: tls.Server;
  let worker: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    makeCertificates(dir);
    server = await startOnFreePorts(path.join(dir, 'temporal.sqlite'));
    const [host, port] = server.address.split(':');
    front = await mtlsFront(dir, { host: host!, port: Number(port) });
    env = {
      ...process.env,
      TEMPORAL_ADDRESS: `localhost:${(front.address() as net.AddressInfo).port}`,
      TEMPORAL_NAMESPACE: server.namespace,
      TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'client.key'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem'),
    };
  });

  after(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await new Promise((resolve) => front?.close(resolve));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the CLI gets through with the client pair, and is refused without it', async () => {
    const { stdout } = await run(CLI, ['schedules', 'list', '--json'], { env, timeout: 60_000 });
    assert.deepEqual(JSON.parse(stdout), []);
    const withoutPair = { ...env, TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' };
    await assert.rejects(run(CLI, ['schedules', 'list', '--json'], { env: withoutPair, timeout: 60_000 }), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr ?? '', /cannot reach Temporal at localhost:\d+/);
      return true;
    });
  });

  test('the worker connects over mTLS and runs a workflow; a client with the same variables starts it', async () => {
    const child = spawn(CLI, ['worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    worker = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/^worker running on localhost:\d+ /m.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it ran:\n${output}`)));
    });
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS!, ...temporalSecurity(env) });
    try {
      const client = new Client({ connection, namespace: server.namespace });
      const result = await client.workflow.execute('probeStorageHosts', { taskQueue: TASK_QUEUE, workflowId: `tls-test-${process.pid}`, args: [{ hosts: [] }] });
      assert.deepEqual(result, []);
    } finally {
      await connection.close();
    }
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(child.pid!, 'SIGTERM');
    assert.equal(await exit, 0, output);
  });
});
