/**
 * Dependency audits (issue 13): `npm audit --omit=dev` on the product's runtime dependencies, and
 * govulncheck on the lab's vSphere simulator module (lab/vsphere) against the Go vulnerability
 * database that scripts/setup.sh builds from the golang.org/x/vulndb module (.data/govulndb; vuln.go.dev
 * itself is not needed). A high or critical npm advisory, or a Go vulnerability the simulator's code
 * reaches, fails the case unless test/lab/audit-allow.json explains it.
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
const ALLOW: { npm: Record<string, string>; go: Record<string, string> } = JSON.parse(readFileSync(path.join(__dirname, 'audit-allow.json'), 'utf8'));

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

interface NpmAuditReport {
  vulnerabilities?: Record<string, { severity: string; via: unknown[] }>;
  metadata?: { vulnerabilities?: Record<string, number> };
  message?: string;
  statusCode?: number;
}

/** The high and critical advisories of an `npm audit --json` report not explained in the allow-list. */
function unexplainedNpm(report: NpmAuditReport, allow: Record<string, string>): string[] {
  if (!report.metadata?.vulnerabilities) {
    throw new Error(`npm audit got no advisories from the registry: ${report.message ?? JSON.stringify(report).slice(0, 200)}`);
  }
  return Object.entries(report.vulnerabilities ?? {})
    .filter(([name, v]) => (v.severity === 'high' || v.severity === 'critical') && !allow[name])
    .map(([name, v]) => `${name} (${v.severity})`);
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
    const planted: NpmAuditReport = {
      vulnerabilities: { left: { severity: 'critical', via: [] }, low: { severity: 'low', via: [] }, explained: { severity: 'high', via: [] } },
      metadata: { vulnerabilities: { critical: 1, high: 1, low: 1 } },
    };
    assert.deepEqual(unexplainedNpm(planted, { explained: 'why' }), ['left (critical)']);
    assert.throws(() => unexplainedNpm({ message: '405 Method Not Allowed', statusCode: 405 }, {}), /got no advisories from the registry: 405 Method Not Allowed/);
    const stream = `{\n "finding": {\n  "osv": "GO-1",\n  "trace": [{ "function": "Get", "package": "net/http" }]\n }\n}\n` +
      `{\n "finding": {\n  "osv": "GO-2",\n  "trace": [{ "module": "stdlib", "package": "net/http" }]\n }\n}\n{ "osv": { "id": "GO-3", "summary": "a } in text" } }\n`;
    assert.deepEqual(reachedGoVulns(stream, {}), ['GO-1']);
    assert.deepEqual(reachedGoVulns(stream, { 'GO-1': 'why' }), []);
  });

  test('npm audit --omit=dev: no high or critical advisory unexplained', recorded('audit/npm', async (r) => {
    const run = await runAll('npm', ['audit', '--omit=dev', '--json'], ROOT);
    r.happened(`npm audit --omit=dev --json exited ${run.code}.`);
    const report = JSON.parse(run.stdout) as NpmAuditReport;
    const left = unexplainedNpm(report, ALLOW.npm);
    assert.deepEqual(left, [], `high or critical advisories not in test/lab/audit-allow.json: ${left.join(', ')}`);
    r.verified(`no high or critical advisory outside the allow-list (${JSON.stringify(report.metadata?.vulnerabilities)})`);
  }));

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
