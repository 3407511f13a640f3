/**
 * Dependency audits (issue 13): govulncheck on the lab's vSphere simulator module (lab/vsphere) against the Go vulnerability
 * database that scripts/setup.sh builds from the golang.org/x/vulndb module (.data/govulndb; vuln.go.dev
 * itself is not needed). A Go vulnerability the simulator's code reaches fails the case unless
 * test/lab/audit-allow.json explains it. `npm audit` cannot run here: this machine's npm registry
 * answers its advisory endpoints with 405 (test/reliability/catalog.ts says so for audit/npm).
 *
 *   node --import tsx --test test/lab/audit.test.ts
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { recorded } from '../helpers/reliability';

const ROOT = path.resolve(__dirname, '..', '..');
const GOVULNCHECK = path.join(ROOT, '.data', 'bin', 'govulncheck');
const GOVULNDB = path.join(ROOT, '.data', 'govulndb');
const VCSIM = path.join(ROOT, '.data', 'bin', 'esxi-zfs-vcsim');
const ALLOW: { go: Record<string, string> } = JSON.parse(readFileSync(path.join(__dirname, 'audit-allow.json'), 'utf8'));

/** Runs a command to its end; exit status and output, whatever the status. */
async function runAll(file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, { cwd, maxBuffer: 256 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

/** The OSV ids of govulncheck's JSON stream whose finding the module's own code reaches (a function in the trace). */
function reachedGoVulns(stream: string, allow: Record<string, string>): string[] {
  const reached = new Set<string>();
  // The stream is a sequence of pretty-printed JSON objects: split at top-level braces.
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < stream.length; i++) {
    const c = stream[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' && depth++ === 0) start = i;
    else if (c === '}' && --depth === 0) {
      const message = JSON.parse(stream.slice(start, i + 1)) as { finding?: { osv: string; trace: { function?: string }[] } };
      if (message.finding?.trace[0]?.function && !allow[message.finding.osv]) reached.add(message.finding.osv);
    }
  }
  return [...reached].sort();
}

describe('dependency audits', { timeout: 300_000 }, () => {
  test('the checks find what they look for (planted reports)', () => {
    const stream = `{\n "finding": {\n  "osv": "GO-1",\n  "trace": [{ "function": "Get", "package": "net/http" }]\n }\n}\n` +
      `{\n "finding": {\n  "osv": "GO-2",\n  "trace": [{ "module": "stdlib", "package": "net/http" }]\n }\n}\n{ "osv": { "id": "GO-3", "summary": "a } in text" } }\n`;
    assert.deepEqual(reachedGoVulns(stream, {}), ['GO-1']);
    assert.deepEqual(reachedGoVulns(stream, { 'GO-1': 'why' }), []);
  });

  test('govulncheck on the simulator (lab/vsphere): no reachable vulnerability unexplained', recorded('audit/govulncheck', async (r) => {
    assert.ok(existsSync(GOVULNCHECK) && existsSync(path.join(GOVULNDB, 'index', 'db.json')), 'govulncheck and .data/govulndb: run scripts/setup.sh');
    const entries = readdirSync(path.join(GOVULNDB, 'ID')).length;
    assert.ok(entries > 4000, `the database holds ${entries} entries`);
    const dbVersion = readFileSync(path.join(GOVULNDB, '.version'), 'utf8').trim();
    // The binary setup built, as the lab runs it: its standard library and the symbols it links.
    const built = (await runAll('go', ['version', VCSIM], ROOT)).stdout.trim().replace(`${ROOT}/`, '');
    const run = await runAll(GOVULNCHECK, ['-db', `file://${GOVULNDB}`, '-mode', 'binary', '-format', 'json', VCSIM], ROOT);
    assert.equal(run.code, 0, run.stderr);
    r.happened(`govulncheck (${dbVersion}, ${entries} entries) scanned the simulator binary (${built}).`);
    const reached = reachedGoVulns(run.stdout, ALLOW.go);
    assert.deepEqual(reached, [], `reachable vulnerabilities not in test/lab/audit-allow.json: ${reached.join(', ')}`);
    r.verified('no vulnerability reachable from the simulator\'s code outside the allow-list');
  }));
});
