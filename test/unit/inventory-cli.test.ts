/**
 * `esxi-zfs validate` as an operator runs it: exit codes, problem lines, the plan. Kept apart from
 * the in-process tests: it starts the CLI, which mutation testing's per-file coverage cannot see into.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { EXAMPLE, withChange } from '../helpers/inventory';

const CLI = join(__dirname, '../../bin/esxi-zfs.js');
const DATASET = ['hosts', 1, 'storageVm', 'datasets', 0];

test('esxi-zfs validate exits 2 with every problem and their lines, and 0 with a plan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inv-'));
  const bad = join(dir, 'bad.yaml');
  const doc = parseDocument(withChange(['hosts', 1, 'storageVm', 'pool', 'log', 0], {}));
  doc.setIn([...DATASET, 'replicateTo', 'vm'], 'nowhere');
  writeFileSync(bad, doc.toString());
  const run = spawnSync(process.execPath, [CLI, 'validate', bad], { encoding: 'utf8' });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, new RegExp(`${bad}:\\d+:\\d+: hosts\\[1\\]\\.storageVm\\.pool\\.log\\[0\\]: `));
  assert.match(run.stderr, /replicateTo\.vm: "nowhere" is not a storage VM/);
  assert.match(run.stderr, /nothing was started/);

  const ok = execFileSync(process.execPath, [CLI, 'validate', EXAMPLE], { encoding: 'utf8' });
  assert.match(ok, /zpool create sp1 c8t1d0 log c11t0d0/);
  assert.match(ok, /sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas/);
  assert.match(ok, /uss1:sp1\/nas\/vol0 -> uss2:sp2\/nas\/vol0 \(59 23 \* \* \* America\/Chicago\)/);
  const json = JSON.parse(execFileSync(process.execPath, [CLI, 'validate', '--json', EXAMPLE], { encoding: 'utf8' }));
  assert.equal(json.ok, true);
  assert.equal(json.plan.replications.length, 2);
});
