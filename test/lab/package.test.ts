/**
 * What `npm pack` makes, installed elsewhere without dev dependencies: `esxi-zfs --version`,
 * `validate` (exit 0 and 2) and `worker` against a real dev server, from the compiled JavaScript
 * and the prebuilt workflow bundle (no tsx, no TypeScript, no webpack run at start). Takes 1-2 min:
 * the pack builds, the install fetches the dependencies (from npm's cache when it has them).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { TASK_QUEUE } from '../../workers/config';
import type { DevServer } from '../../workers/dev-server';
import { startOnFreePorts } from '../helpers/temporal';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const EXAMPLE = path.join(REPO, 'examples', 'runbook.yaml');

/** Runs the installed CLI; its exit code, stdout and stderr (a non-zero exit is not an error here). */
async function cli(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(bin, args, { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

describe('the packed package, installed elsewhere', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-package-'));
  const app = path.join(dir, 'app');
  const installed = path.join(app, 'node_modules', 'esxi-zfs');
  const bin = path.join(app, 'node_modules', '.bin', 'esxi-zfs');
  let server: DevServer | undefined;
  let worker: ChildProcess | undefined;

  before(async () => {
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
    const tarball = path.join(dir, stdout.trim().split('\n').at(-1)!);
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'esxi-zfs-install-test', private: true }));
    await run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
  });

  after(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('ships compiled JavaScript, the workflow bundle and the files beside the code; no sources, no dev dependency', () => {
    const files = filesUnder(installed);
    assert.deepEqual(files.filter((f) => f.endsWith('.ts')), []);
    assert.ok(files.includes(path.join('dist', 'workflow-bundle.js')));
    assert.ok(files.includes(path.join('dist', 'scripts', 'cli.js')));
    assert.ok(files.includes(path.join('dist', 'activities', 'replication', 'byte-counter.py')));
    assert.deepEqual(files.filter((f) => !/^(dist|bin)\//.test(f)).sort(), ['README.md', 'package.json']);
    for (const dev of ['tsx', 'typescript', '@temporalio/testing']) {
      assert.equal(existsSync(path.join(app, 'node_modules', dev)), false, `${dev} installed`);
    }
  });

  test('esxi-zfs --version prints package.json\'s version', async () => {
    const { code, stdout } = await cli(bin, ['--version']);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), VERSION);
  });

  test('validate: the example inventory passes (0), a broken one is refused (2) with its line', async () => {
    const good = await cli(bin, ['validate', EXAMPLE]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /uss1:sp1\/nas\/vol0 -> uss2:sp2\/nas\/vol0/);

    const broken = path.join(dir, 'broken.yaml');
    const text = readFileSync(EXAMPLE, 'utf8');
    assert.ok(text.includes('      cpus: 2\n'));
    writeFileSync(broken, text.replace('      cpus: 2\n', '      cpus: two\n'));
    const bad = await cli(bin, ['validate', broken]);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /broken\.yaml:\d+:\d+: hosts\[1\]\.storageVm\.cpus/);
  });

  test('the lab is not in the package (it needs a checkout)', async () => {
    const { stdout } = await cli(bin, ['--help']);
    assert.match(stdout, /^ {2}worker /m);
    assert.doesNotMatch(stdout, /^ {2}lab /m);
  });

  test('worker: runs a workflow from the prebuilt bundle on TEMPORAL_ADDRESS, stops on SIGTERM', async () => {
    server = await startOnFreePorts(path.join(dir, 'temporal.sqlite'));
    const env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace };
    const child = spawn(bin, ['worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    worker = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/^worker running on \S+ namespace default task queue esxi-zfs$/m.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it ran:\n${output}`)));
    });

    const connection = await Connection.connect({ address: server.address });
    try {
      const client = new Client({ connection, namespace: server.namespace });
      const result = await client.workflow.execute('probeStorageHosts', { taskQueue: TASK_QUEUE, workflowId: `package-test-${process.pid}`, args: [{ hosts: [] }] });
      assert.deepEqual(result, []);
    } finally {
      await connection.close();
    }
    assert.equal(existsSync(path.join(installed, '.data')), false, 'the worker bundled the workflows at start instead of using dist/workflow-bundle.js');

    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(child.pid!, 'SIGTERM');
    assert.equal(await exit, 0, output);
    assert.match(output, /^worker stopped$/m);
  });
});
