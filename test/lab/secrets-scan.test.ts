/**
 * No secret in any history, log line or output (issue 13, secrets/histories-logs-output): the demo's
 * runbook as scripts/demo.sh runs it, through the CLI, on its own lab with the vSphere simulator and
 * an `esxi-zfs worker` process (its embedded dev server on free ports, its log captured): lab up,
 * validate, provision twice, a full and an incremental replication, schedules, status, the source
 * lost (the lab's vm-off hook), failover, status. Then every workflow the server lists is read with
 * the Temporal CLI (`workflow show` and `workflow describe --output json`: inputs, results, memo,
 * search attributes, failures), every schedule's description (its action's input), and every query
 * the runbooks define is asked of every workflow. All of it, the worker's log and the CLI's output
 * are scanned for every private key in the lab (body lines, and the secret part itself in hex and
 * base64) and the simulator's password. Runs as root; its own lab, torn down at the end.
 *
 *   node --import tsx --test test/lab/secrets-scan.test.ts
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { resolveTemporalCli } from '../../workers/temporal-binaries';
import { labDown } from '../../lab/lab';
import { readJson, statePath, type LabState } from '../../lab/state';
import { LAB_VSPHERE_PASSWORD_ENV } from '../../lab/vsphere-lab';
import { freePorts } from '../helpers/temporal';
import { requireInventory } from '../../inventory/load';
import { replicationJobs } from '../../inventory/jobs';
import { startReplication } from '../../scripts/replication-start';
import { recorded } from '../helpers/reliability';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'esxi-zfs.js');
const DIR = path.join(ROOT, '.data', 'lab-secrets-test');
const INV = path.join(DIR, 'inventory.yaml');
const NAMES = ['sec-san-01', 'sec-san-02'];
const QUERIES = ['failoverProgress', 'passthroughStatus', 'progress', 'provisionClusterStatus', 'provisionHostStatus', 'recoverDatastoresProgress', 'storageVmStatus'];

interface Secret {
  /** Where it came from (a file, "the vSphere password"): never the secret itself. */
  source: string;
  needles: string[];
}

/** Each needle found in `text`, by where its secret came from (the needles themselves are never printed). */
export function findSecrets(text: string, secrets: Secret[]): string[] {
  return secrets.flatMap((s) => s.needles.filter((n) => text.includes(n)).map((n) => `${s.source} (a ${n.length}-character piece)`));
}

/** The secret part of an unencrypted OpenSSH private key (openssh-key-v1): the private section's keys. */
function opensshSecret(body: Buffer): Buffer {
  let at = 15; // "openssh-key-v1\0"
  const str = () => {
    const len = body.readUInt32BE(at);
    const value = body.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    return value;
  };
  str(); str(); str(); // cipher, kdf, kdf options
  const keys = body.readUInt32BE(at);
  at += 4;
  for (let i = 0; i < keys; i++) str(); // public keys
  const section = str();
  // check ints (8), key type, then per type the public and private parts: the section past the public key is secret.
  const type = section.subarray(12, 12 + section.readUInt32BE(8)).toString();
  const afterType = 12 + type.length;
  if (type === 'ssh-ed25519') return section.subarray(afterType + 4 + 32 + 4, afterType + 4 + 32 + 4 + 32); // the 32-byte seed
  return section.subarray(afterType + 64, section.length - 16); // rsa/ecdsa: past a public prefix, before comment and padding
}

/** A private key file as needles: its body lines, and its secret bytes as hex, base64 and base64url. */
function keySecret(file: string): Secret {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('-----'));
  let secret: Buffer;
  if (text.includes('OPENSSH PRIVATE KEY')) secret = opensshSecret(Buffer.from(lines.join(''), 'base64'));
  else secret = Buffer.from(createPrivateKey(text).export({ format: 'jwk' }).d!, 'base64url');
  assert.ok(secret.length >= 32, `${file}: ${secret.length} secret bytes`);
  const piece = secret.subarray(0, 24);
  return { source: file, needles: [...lines, secret.toString('hex'), piece.toString('base64'), piece.toString('base64url')] };
}

/** A file's text; '' for what cannot be read like one (the hosts' kernel files under their roots). */
function readable(file: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return '';
  }
}

/** Every private key file under dir (small files that say PRIVATE KEY; disk images and pools skipped by size). */
function privateKeyFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory() && !entry.isSymbolicLink()) privateKeyFiles(file, out);
    else if (entry.isFile() && statSync(file).size < 16384 && readable(file).includes('PRIVATE KEY-----')) out.push(file);
  }
  return out;
}

/** Strings of a JSON value, and what base64-looking ones decode to (payloads the CLI shows encoded). */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value);
    if (value.length >= 8 && value.length % 4 === 0 && /^[A-Za-z0-9+/]+=*$/.test(value)) out.push(Buffer.from(value, 'base64').toString('utf8'));
  } else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

let worker: ChildProcess | undefined;
let workerLog = '';
let cliOutput = '';
let dataDir: string;
let address: string;
let password: string;
const env = (): NodeJS.ProcessEnv => ({ ...process.env, TEMPORAL_ADDRESS: address, [LAB_VSPHERE_PASSWORD_ENV]: password, NODE_OPTIONS: '--max-semi-space-size=2' });

/** A command as the demo runs it; its stdout and stderr appended to the CLI output scanned. */
async function cli(args: string[], opts: { okCodes?: number[] } = {}): Promise<string> {
  const okCodes = opts.okCodes ?? [0];
  const result = await promisify(execFile)(args[0] === 'node' ? process.execPath : CLI, args[0] === 'node' ? args.slice(1) : args, { cwd: ROOT, env: env(), maxBuffer: 64 << 20 })
    .then((r) => ({ code: 0, ...r }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(e) }));
  cliOutput += `$ esxi-zfs ${args.join(' ')}\n${result.stdout}${result.stderr}`;
  assert.ok(okCodes.includes(result.code as number), `esxi-zfs ${args.join(' ')}: exit ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The Temporal CLI the project finds, against the worker's dev server, JSON out. */
async function temporalJson(args: string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(resolveTemporalCli(), [...args, '--address', address, '--output', 'json'], { maxBuffer: 256 << 20 });
  return JSON.parse(stdout.trim().startsWith('[') || stdout.trim().startsWith('{') ? stdout : `[${stdout.trim().split('\n').join(',')}]`);
}

before(async () => {
  await labDown({ dir: DIR });
  dataDir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-secrets-'));
  const ports = await freePorts();
  address = `127.0.0.1:${ports.port}`;
  password = '';
  await cli(['lab', 'up', '--hosts', '2', '--names', NAMES.join(','), '--vsphere', '--reboot-seconds', '5', '--dir', DIR]);
  password = readFileSync(path.join(DIR, 'vsphere', 'password'), 'utf8').trim();
  assert.ok(password.length >= 8, 'the simulator has a password');
  const workerEnv = env();
  delete workerEnv.TEMPORAL_ADDRESS;
  worker = spawn(CLI, ['worker', '--data-dir', dataDir, '--port', String(ports.port), '--ui-port', String(ports.uiPort), '--metrics-address', 'off'], { cwd: ROOT, env: workerEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const running = new Promise<void>((resolve, reject) => {
    const take = (chunk: Buffer) => {
      workerLog += chunk.toString();
      if (/worker running/.test(workerLog)) resolve();
    };
    worker!.stdout!.on('data', take);
    worker!.stderr!.on('data', take);
    worker!.once('exit', (code) => reject(new Error(`worker exited (${code}):\n${workerLog}`)));
  });
  await running;
});

after(async () => {
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker!.once('exit', resolve));
  }
  await labDown({ dir: DIR });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('no secret in histories, logs or output', { timeout: 600_000 }, () => {
  test('the scanner finds a planted secret', () => {
    const secrets: Secret[] = [{ source: 'a planted key', needles: ['b3BlbnNzaC1rZXktdjEAAAAA', 'deadbeefcafe'] }, { source: 'a planted password', needles: ['s3cr3t-pw'] }];
    assert.deepEqual(findSecrets('{"input":"ok","log":"x deadbeefcafe y"}', secrets), ['a planted key (a 12-character piece)']);
    assert.deepEqual(findSecrets('password=s3cr3t-pw', secrets), ['a planted password (a 9-character piece)']);
    assert.deepEqual(findSecrets('nothing here', secrets), []);
    assert.ok(strings({ payload: { data: Buffer.from('"s3cr3t-pw"').toString('base64') } }).some((s) => findSecrets(s, secrets).length > 0), 'a base64 payload is decoded before the scan');
  });

  test("the demo's runbook: every history, memo, search attribute, query answer, failure, the worker's log and the CLI output", recorded('secrets/histories-logs-output', async (r) => {
    const lab = readJson<LabState>(statePath(DIR));
    assert.ok(lab, `no lab state in ${DIR}`);
    const [h1] = lab.hosts;
    const started = Date.now();
    const client = new Client({ connection: await Connection.connect({ address }) });
    // The demo, step by step (scripts/demo.sh).
    await cli(['validate', INV]);
    await cli(['provision', INV, '--wait']);
    await cli(['provision', INV, '--wait']);
    const ssh = (host: { address: string }, command: string) =>
      promisify(execFile)('ssh', ['-q', '-i', path.join(DIR, 'id_ed25519'), '-o', `UserKnownHostsFile=${path.join(DIR, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes', `root@${host.address}`, command]);
    await ssh(h1!, `head -c 4194304 /dev/urandom > /export/${h1!.name}-nas-vol0/disk.vmdk`);
    await cli(['replicate', INV, '--dataset', 'sp1/nas/vol0', '--wait']);
    await ssh(h1!, `head -c 1048576 /dev/urandom > /export/${h1!.name}-nas-vol0/changed.bin`);
    await cli(['replicate', INV, '--dataset', 'sp1/nas/vol0', '--wait']);
    await cli(['schedules', 'list']);
    await cli(['status', INV]);
    // A run that fails (a dataset the source does not have): its failure message is in a history too.
    const inventory = requireInventory(INV);
    const job = replicationJobs(inventory).find((j) => j.source.dataset === 'sp1/nas/vol0')!;
    const failing = await startReplication(client, { ...job, source: { ...job.source, dataset: 'sp1/nas/missing' } });
    await assert.rejects(failing.handle.result(), WorkflowFailedError);
    await cli(['node', '--require', 'tsx/cjs', 'lab/vsphere-hook.ts', '--dir', DIR, 'vm-off', h1!.name, h1!.name]);
    await cli(['failover', INV, '--dataset', 'sp1/nas/vol0', '--wait']);
    await cli(['status', INV], { okCodes: [1] });
    r.happened('the demo ran through the CLI against an esxi-zfs worker process: validate, provision (twice), replicate (full, incremental), schedules, status, the source lost, failover, status; and one replication of a dataset the source does not have (a failure in a history).');

    const ranFor = Math.round((Date.now() - started) / 1000);
    // What the server holds, read as an operator would.
    const listed = (await temporalJson(['workflow', 'list'])) as { execution: { workflowId: string; runId: string } }[];
    const corpus: { what: string; text: string }[] = [{ what: "the worker's log", text: workerLog }, { what: "the CLI's output", text: cliOutput }];
    let failures = 0;
    let searchAttributes = 0;
    let answers = 0;
    try {
      for (const listing of listed) {
        const { execution } = listing;
        const run = ['--workflow-id', execution.workflowId, '--run-id', execution.runId];
        const history = await temporalJson(['workflow', 'show', ...run]);
        const described = await temporalJson(['workflow', 'describe', ...run]);
        const historyText = strings(history).join('\n');
        failures += (JSON.stringify(history).match(/"failure":/g) ?? []).length;
        // The product's own search attributes (not only Temporal's BuildIds) as the list shows them, values base64 (decoded by strings()).
        if (/"(runbook|host|dataset)":\{"metadata"/.test(JSON.stringify(listing))) searchAttributes++;
        corpus.push({ what: `${execution.workflowId}'s history`, text: historyText }, { what: `${execution.workflowId}'s description and listing (memo, search attributes)`, text: strings([described, listing]).join('\n') });
        const handle = client.workflow.getHandle(execution.workflowId, execution.runId);
        for (const name of QUERIES) {
          const answer = await handle.query(name).then((a) => (answers++, JSON.stringify(a)), (e: Error) => e.message);
          corpus.push({ what: `${execution.workflowId}'s ${name} query`, text: answer });
        }
      }
      const schedules = (await temporalJson(['schedule', 'list'])) as { scheduleId: string }[];
      for (const { scheduleId } of schedules) {
        corpus.push({ what: `schedule ${scheduleId}`, text: strings(await temporalJson(['schedule', 'describe', '--schedule-id', scheduleId])).join('\n') });
      }
      r.happened(`Scanned ${listed.length} workflows (history, description, ${QUERIES.length} queries each: ${answers} answered), ${schedules.length} schedules, the worker's log (${workerLog.length} characters) and the CLI's output (${cliOutput.length} characters); the runbooks took ${ranFor} s, the reading ${Math.round((Date.now() - started) / 1000) - ranFor} s.`);
    } finally {
      await client.connection.close();
    }

    // What was scanned really holds what the runbooks carried: payloads decoded, failures, search attributes, answers.
    const all = corpus.map((c) => c.text).join('\n');
    assert.ok(listed.length >= 10, `${listed.length} workflows listed`);
    assert.ok(all.includes('sp1/nas/vol0') && all.includes(`zfsadm@${h1!.name}`), 'payloads decoded: the dataset and a replication public key are in the scanned text');
    assert.ok(all.includes(LAB_VSPHERE_PASSWORD_ENV), 'the inventory names the password by its variable (in the inputs scanned)');
    assert.ok(failures > 0, 'at least one failure in the histories');
    assert.ok(searchAttributes > 0, 'search attributes in the descriptions');
    assert.ok(answers > 0, 'query answers');
    r.verified(`scanned text holds decoded payloads, ${failures} failures, search attributes of ${searchAttributes} workflows and ${answers} query answers`);

    const keyFiles = privateKeyFiles(DIR);
    for (const expected of [path.join(DIR, 'id_ed25519'), ...lab.hosts.flatMap((h) => [path.join(h.root, 'etc/ssh/ssh_host_ed25519_key'), path.join(h.root, 'home/zfsadm/.ssh/id_ed25519')])]) {
      assert.ok(keyFiles.includes(expected), `${expected} is among the lab's private keys: ${keyFiles.join(', ')}`);
    }
    const secrets = [...keyFiles.map(keySecret), { source: 'the vSphere password', needles: [password, Buffer.from(password).toString('base64'), encodeURIComponent(password)] }];
    for (const c of corpus) assert.deepEqual(findSecrets(c.text, secrets), [], `a secret in ${c.what}`);
    r.verified(`none of ${keyFiles.length} private keys (the lab's, each host's sshd keys, each replication user's) nor the vSphere password appears in any of ${corpus.length} texts scanned`);
  }));
});
