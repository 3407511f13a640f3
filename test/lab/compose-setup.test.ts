/**
 * The compose file's namespace job (deploy/compose/create-namespace.sh) for real, against a dev
 * server with the Temporal CLI the tests run, with the environment docker-compose.yml gives it:
 * the namespace and every search attribute the runs carry, and a second run that changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { parse } from 'yaml';
import { ensureSearchAttributes, type DevServer } from '../../workers/dev-server';
import { resolveTemporalCli } from '../../workers/temporal-binaries';
import { startOnFreePorts } from '../helpers/temporal';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');
const SCRIPT = path.join(REPO, 'deploy/compose/create-namespace.sh');
const compose = parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { environment: Record<string, string> }>;
};
const jobEnv = compose.services['temporal-namespace']!.environment;

const dir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-compose-setup-'));
let server: DevServer;

before(async () => {
  server = await startOnFreePorts(path.join(dir, 'temporal.sqlite'));
});

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const runJob = () =>
  run('sh', [SCRIPT], {
    env: { ...process.env, ...jobEnv, TEMPORAL_ADDRESS: server.address, PATH: `${path.dirname(resolveTemporalCli())}:${process.env.PATH}` },
    timeout: 180_000,
  });

test('the namespace job creates the namespace and the search attributes; run again, it still succeeds', { timeout: 400_000 }, async () => {
  const first = await runJob();
  assert.match(first.stdout, new RegExp(`namespace ${jobEnv.TEMPORAL_NAMESPACE} ready`));
  const connection = await Connection.connect({ address: server.address });
  try {
    const namespace = await connection.workflowService.describeNamespace({ namespace: jobEnv.TEMPORAL_NAMESPACE });
    assert.equal(Number(namespace.config?.workflowExecutionRetentionTtl?.seconds), 30 * 24 * 3600);
    // Nothing left to add, and no attribute with another type (that throws).
    assert.deepEqual(await ensureSearchAttributes(connection, jobEnv.TEMPORAL_NAMESPACE!), []);
  } finally {
    await connection.close();
  }
  const second = await runJob();
  assert.match(second.stdout, /ready with search attributes: host=Keyword hosts=KeywordList dataset=Keyword runbook=Keyword/);
});
