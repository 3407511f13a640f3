/**
 * The loader's report (inventory/load.ts): problems in file order with line and column, keys
 * pointed at where the key is wrong, counts past the cap, read failures with or without a
 * position, and the error commands throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_INVALID, InventoryError, loadInventoryFile, parseInventory, requireInventory, type InventoryProblem } from '../../inventory/load';
import { EXAMPLE, exampleText, withChanges } from '../helpers/inventory';

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

test('problems come in file order whatever found them, each at its line and column; a wrong key is pointed at as a key', () => {
  // The schema finds the last two, the cross-checks (run after it) the one between them.
  const text = withChanges([
    [['credentials', 'storage-root', 'usr'], 'root'],
    [['hosts', 2, 'storageNetwork', 'vmkernel', 'address'], '10.0.1.11/24'],
    [['hosts', 3, 'storageNetwork', 'vswitch'], 'v switch'],
    [['hosts', 1, 'storageVm', 'memoryGiB'], undefined],
  ]);
  const result = parseInventory(text, 'inv.yaml');
  assert.equal(result.ok, false);
  if (result.ok) return;
  const line = (needle: string, from = 0) => text.split('\n').findIndex((l, i) => i >= from && l.includes(needle)) + 1;
  const vh2 = line('name: vh2');
  assert.deepEqual(result.problems.map((p) => [p.path, p.line]), [
    ['credentials.storage-root.usr', line('usr: root')],
    ['hosts[1].storageVm.memoryGiB', line('name: uss1')], // a missing key: at its map
    ['hosts[2].storageNetwork.vmkernel.address', line('10.0.1.11/24', vh2)],
    ['hosts[3].storageNetwork.vswitch', line('v switch')],
  ]);
  const [unknown, required, duplicate] = result.problems as [InventoryProblem, InventoryProblem, InventoryProblem];
  assert.equal(unknown.message, 'unknown key "usr" (a misspelt setting would otherwise be ignored)');
  assert.equal(unknown.column, text.split('\n')[unknown.line! - 1]!.indexOf('usr') + 1, 'the key, not its value');
  assert.equal(required.message, 'required');
  assert.equal(duplicate.message, 'address 10.0.1.11 is already given to hosts[1].storageNetwork.vmkernel.address');
  assert.equal(result.moreProblems, 0);
  assert.equal(result.file, 'inv.yaml');
});

test('problems at the same place keep the order they were found in; a missing key is "required" whatever its schema', () => {
  const text = withChanges([[['hosts', 1, 'storageVm', 'memoryGiB'], undefined], [['hosts', 1, 'storageVm', 'cpus'], undefined], [['hosts', 1, 'storageVm', 'os'], undefined]]);
  const result = parseInventory(text);
  assert.equal(result.file, '<inventory>');
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.problems.map((p) => [p.path, p.line, p.message]), [
    ['hosts[1].storageVm.os', lineOf(text, 'name: uss1'), 'required'],
    ['hosts[1].storageVm.cpus', lineOf(text, 'name: uss1'), 'required'],
    ['hosts[1].storageVm.memoryGiB', lineOf(text, 'name: uss1'), 'required'],
  ]);
});

test('a key that fails its grammar is reported at the key, with the grammar\'s words', () => {
  const text = exampleText.replace('  storage-root:', '  "storage root":');
  const result = parseInventory(text, 'inv.yaml');
  assert.equal(result.ok, false);
  if (result.ok) return;
  const problem = result.problems.find((p) => p.path.startsWith('credentials'))!;
  assert.match(problem.message, /^key: /);
  assert.equal(problem.line, lineOf(text, '"storage root":'));
  assert.equal(problem.column, 3);
});

test('a YAML-level failure: its problems, none counted as more; a read failure at its position, or without one', () => {
  const yaml = parseInventory('a: 1\na: 2\n', 'dup.yaml');
  assert.equal(yaml.ok, false);
  if (!yaml.ok) {
    assert.equal(yaml.moreProblems, 0);
    assert.equal(yaml.problems.length, 1);
    assert.equal(yaml.problems[0]!.line, 2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'inv-load-'));
  try {
    const nul = join(dir, 'nul.yaml');
    writeFileSync(nul, 'a: 1\nb: \0\n');
    assert.deepEqual(loadInventoryFile(nul), { ok: false, file: nul, moreProblems: 0, problems: [{ path: '', line: 2, column: 4, message: 'the file contains a NUL byte: an inventory is UTF-8 text' }] });
    const missing = join(dir, 'missing.yaml');
    assert.deepEqual(loadInventoryFile(missing), { ok: false, file: missing, moreProblems: 0, problems: [{ path: '', message: 'cannot open the inventory: no such file or directory (ENOENT)' }] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('requireInventory: the inventory, or an InventoryError whose text is the problem lines and the summary, exit code 2', () => {
  assert.equal(requireInventory(EXAMPLE).hosts.length, 4);
  const dir = mkdtempSync(join(tmpdir(), 'inv-load-'));
  try {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'a: 1\na: 2\n');
    assert.throws(() => requireInventory(file), (error: unknown) => {
      assert.ok(error instanceof InventoryError);
      assert.equal(error.name, 'InventoryError');
      assert.equal(error.exitCode, EXIT_INVALID);
      assert.equal(EXIT_INVALID, 2);
      assert.equal(error.file, file);
      assert.equal(error.moreProblems, 0);
      assert.equal(error.problems.length, 1);
      const lines = error.message.split('\n');
      assert.equal(lines.length, 2);
      assert.match(lines[0]!, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: `));
      assert.equal(lines[1], `1 problem in ${file}; nothing was started`);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
