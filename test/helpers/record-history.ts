/**
 * Recording real workflow histories for the replay test (test/workflow/replay.test.ts): with
 * ESXI_ZFS_RECORD_HISTORIES=1 (`npm run record:histories`), a lab test's finished run is written to
 * test/workflow/histories/<fileName>.json in the JSON form Temporal's tools use, which
 * `Worker.runReplayHistories` reads back. Without the variable it does nothing.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils';

export const HISTORIES_DIR = path.resolve(__dirname, '..', 'workflow', 'histories');
export const RECORD_ENV = 'ESXI_ZFS_RECORD_HISTORIES';

/** A private key's armour, as OpenSSH, PEM and PKCS#8 write it. */
export const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** Every string in the history, payload bytes decoded as UTF-8 (where inputs, results and failures are). */
export function historyTexts(value: unknown, out: string[] = []): string[] {
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) for (const v of value) historyTexts(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) historyTexts(v, out);
  else if (typeof value === 'string') out.push(value);
  return out;
}

/**
 * What in the history looks like a secret: private key material, or the value of a credential
 * variable of this process (a vSphere password the test put in the environment).
 */
export function secretsIn(history: History, env: NodeJS.ProcessEnv = process.env): string[] {
  const text = historyTexts(history).join('\n');
  const found: string[] = [];
  if (PRIVATE_KEY.test(text)) found.push('private key material');
  for (const [name, value] of Object.entries(env)) {
    if (/PASSWORD|SECRET|TOKEN|PASSPHRASE/i.test(name) && value && value.length >= 8 && text.includes(value)) found.push(`the value of ${name}`);
  }
  return found;
}

/** Writes the finished run's history when recording is on; refuses a run still open or a history that carries a secret. */
export async function recordHistory(client: Client, workflowId: string, fileName: string, runId?: string): Promise<void> {
  if (process.env[RECORD_ENV] !== '1') return;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const last = history.events?.at(-1) ?? {};
  if (!last.workflowExecutionCompletedEventAttributes && !last.workflowExecutionFailedEventAttributes) {
    throw new Error(`${workflowId}: the run has not completed or failed; record a finished run`);
  }
  // The dev server names the run in its first event; the time-skipping server does not. Replay needs
  // the id: setupReplicationTrust derives its children's ids from its own.
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (started && !started.workflowId) started.workflowId = workflowId;
  const secrets = secretsIn(history);
  if (secrets.length > 0) throw new Error(`${workflowId}: the history carries ${secrets.join(', ')}; not recorded`);
  const file = path.join(HISTORIES_DIR, `${fileName}.json`);
  const json = `${historyToJSON(history)}\n`;
  writeFileSync(file, json);
  process.stdout.write(`# recorded ${path.relative(process.cwd(), file)}: ${history.events?.length} events, ${json.length} bytes\n`);
}
