/**
 * Hostile inventories through the real CLI (bin/esxi-zfs.js validate, text and --json, children in
 * parallel): the corpus under test/fixtures/inventory (cases.json says, for each file, the exit code
 * and the problem's message, line and path) and files made here (huge, /dev/zero, a FIFO, a
 * directory, a symlink, megabytes of errors, an alias bomb): the exit code, one line per problem
 * plus the summary, the same problems in both forms, no raw control character on stdout or stderr,
 * and a bounded output. The same cases in process: inventory-loader.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventoryFile, formatProblem, type InventoryProblem } from '../../inventory/load';
import { MAX_PROBLEMS } from '../../inventory/problems';
import { inventoryOfErrors } from '../../scripts/bench/inventory-files';
import { assertProblem, FIXTURES, manifest, RAW_CONTROL, specialFileCases, type Case } from '../helpers/inventory-cases';

const CLI = join(__dirname, '../../bin/esxi-zfs.js');
/** Output is bounded: 100 problems of at most ~700 characters each, in JSON a little more. */
const MAX_OUTPUT = 256 * 1024;

interface Run { status: number | null; stdout: string; stderr: string; }

/** Runs the CLI; at most `parallel` children at once (the machine has 2 cores, each start costs ~1 s). */
const queue: (() => void)[] = [];
let running = 0;
const parallel = 3;
function cli(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const start = () => {
      running++;
      execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 4 * MAX_OUTPUT, timeout: timeoutMs }, (error, stdout, stderr) => {
        running--;
        queue.shift()?.();
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ status, stdout, stderr: error && status === null ? `${stderr}\n${error.message}` : stderr });
      });
    };
    if (running < parallel) start();
    else queue.push(start);
  });
}

/**
 * One file through the CLI: text, and (withJson) --json checked against it and the case. Without
 * --json the text is checked against the in-process result, which is what --json prints.
 */
async function checkCli(file: string, c: Case, label: string, withJson = true): Promise<{ text: Run; json?: Run }> {
  const [text, json] = await Promise.all([cli(['validate', file]), withJson ? cli(['validate', '--json', file]) : undefined]);
  for (const run of json ? [text, json] : [text]) {
    assert.equal(run.status, c.exit, `${label}: exit code; stderr: ${run.stderr.slice(0, 2000)}`);
    assert.ok(!RAW_CONTROL.test(run.stdout) && !RAW_CONTROL.test(run.stderr), `${label}: a raw control character in the output`);
    assert.ok(run.stdout.length + run.stderr.length < MAX_OUTPUT, `${label}: ${run.stdout.length + run.stderr.length} bytes of output`);
  }
  if (c.exit === 0) {
    assert.match(text.stdout, new RegExp(c.message), label);
    if (json) assert.equal(JSON.parse(json.stdout).ok, true, label);
    return { text, json };
  }
  const loaded = json ? undefined : loadInventoryFile(file);
  const result = (json ? JSON.parse(json.stdout) : loaded) as { ok: boolean; problems: InventoryProblem[]; moreProblems: number };
  assert.equal(result.ok, false, label);
  assertProblem(result.problems, c, `${label} --json`);
  // Text: exactly one line per problem, then the summary; the same problems as --json.
  const lines = text.stderr.replace(/\n$/, '').split('\n');
  assert.deepEqual(lines.slice(0, -1), result.problems.map((p) => formatProblem(file, p)), `${label}: text and --json differ`);
  assert.match(lines.at(-1)!, new RegExp(`^${result.problems.length + result.moreProblems} problems? in .*nothing was started$`), label);
  if (result.moreProblems > 0) assert.match(lines.at(-1)!, new RegExp(`and ${result.moreProblems} more problems?`), label);
  assert.equal(text.stdout, '', `${label}: nothing on stdout`);
  return { text, json };
}

/** Fixtures also run with --json through the CLI (each start costs a second of a core). */
const JSON_THROUGH_CLI = /^(alias-bomb|alias-honest-reuse|duplicate-key|utf16-no-bom|tag-custom|control-chars-in-key)\.yaml$/;

test('every fixture through the CLI (text; some with --json too)', async () => {
  await Promise.all(Object.entries(manifest.cases).map(([name, c]) => checkCli(join(FIXTURES, name), c, name, JSON_THROUGH_CLI.test(name))));
});

test('special and huge files are refused before parsing, through the CLI', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inv-hostile-'));
  const { cases, fifo, bomb } = specialFileCases(dir);
  const errors = join(dir, 'errors-2mb.yaml');
  // 2 MB of schema errors (3500 problems; `npm run bench:inventory` measures 10 MB), without
  // unknown datastore hosts, whose message (references.ts) lists every host of the inventory.
  writeFileSync(errors, inventoryOfErrors(2e6, false));
  const [, big] = await Promise.all([
    Promise.all(cases.map(([file, c]) => checkCli(file, c, file, file === bomb || file === fifo))),
    checkCli(errors, { exit: 2, message: '.' }, 'errors-2mb'),
  ]);
  const result = JSON.parse(big.json!.stdout) as { problems: InventoryProblem[]; moreProblems: number };
  assert.equal(result.problems.length, MAX_PROBLEMS);
  assert.ok(result.moreProblems > 1000, `moreProblems ${result.moreProblems}`);
});

test('another command that needs the inventory exits 2 with the same problem lines', async () => {
  const file = join(FIXTURES, 'duplicate-key.yaml');
  const [validate, status] = await Promise.all([cli(['validate', file]), cli(['status', file])]);
  assert.equal(status.status, 2, status.stderr);
  assert.equal(status.stderr, validate.stderr);
});
