/**
 * The loader in process, on hostile input: the corpus under test/fixtures/inventory (cases.json),
 * special and huge files, megabytes of errors, an alias bomb, and texts no reader may throw on.
 * The same cases through the real CLI: inventory-hostile.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatProblem, loadInventoryFile, parseInventory } from '../../inventory/load';
import { MAX_PROBLEMS } from '../../inventory/problems';
import { inventoryOfErrors, validInventory } from '../../scripts/bench/inventory-files';
import { assertProblem, FIXTURES, manifest, RAW_CONTROL, specialFileCases } from '../helpers/inventory-cases';

test('every fixture: exit, message, line and path, each problem one escaped line', () => {
  for (const [name, c] of Object.entries(manifest.cases)) {
    const file = join(FIXTURES, name);
    const result = loadInventoryFile(file);
    assert.equal(result.ok ? 0 : 2, c.exit, `${name}: ${result.ok ? 'valid' : JSON.stringify(result.problems.slice(0, 3))}`);
    if (result.ok) continue;
    assertProblem(result.problems, c, name);
    for (const problem of result.problems) {
      const line = formatProblem(file, problem);
      assert.ok(!line.includes('\n') && !RAW_CONTROL.test(line), `${name}: ${JSON.stringify(line)}`);
    }
  }
});

test('special and huge files are refused before parsing; megabytes of errors are capped; an alias bomb is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inv-loader-'));
  try {
    const { cases } = specialFileCases(dir);
    for (const [file, c] of cases) {
      const result = loadInventoryFile(file);
      assert.equal(result.ok, false, file);
      if (!result.ok) assertProblem(result.problems, c, file);
    }

    const errors = join(dir, 'errors-2mb.yaml');
    writeFileSync(errors, inventoryOfErrors(2e6, false));
    const result = loadInventoryFile(errors);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problems.length, MAX_PROBLEMS);
    assert.ok(result.moreProblems > 1000, `moreProblems ${result.moreProblems}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file over 4 MiB must be plain YAML: the yaml package reads only smaller ones', () => {
  const lines = validInventory(5e6).split('\n');
  const at = 40_000;
  lines[at] = `${lines[at]} &anchor`.replace(/: (\S+) &anchor$/, ': &anchor $1');
  const result = parseInventory(lines.join('\n'), 'big.yaml');
  assert.equal(result.ok, false);
  const problem = result.ok ? undefined : result.problems[0];
  assert.match(problem!.message, /larger than 4 MiB, and from this line on it is not plain YAML/);
  assert.equal(problem!.line, at + 1);
  assert.ok(parseInventory(validInventory(5e6)).ok, 'a plain 5 MB inventory is read');
});

test('no input makes the loader throw', () => {
  const inputs = [
    '['.repeat(100_000),
    '{a: '.repeat(50_000),
    `a: ${'- '.repeat(50_000)}x`,
    Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'),
    'a: &a [x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: *c\n',
    'a: &a\n  b: *a\n',
    '? [a, b]\n: c\n',
    '? { a: 1 }\n: c\n',
    ': x\n',
    '!!set { a, b }\n',
    '%YAML 1.1\n---\na: 1\n',
    '"\\u0000": 1\n',
    'a: !!timestamp 2001-12-14\n',
    'a: 12345678901234567890123\n',
    '- *undefined\n',
    '\u2028: \u202e\n',
  ];
  for (const text of inputs) {
    const result = parseInventory(text, 'x.yaml');
    assert.equal(result.ok, false, text.slice(0, 40));
    for (const problem of result.ok ? [] : result.problems) assert.ok(!RAW_CONTROL.test(formatProblem('x.yaml', problem)));
  }
});
