/** The example inventory with changes, and assertions on the problems the loader reports. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { parseInventory, type InventoryProblem } from '../../inventory/load';

export const EXAMPLE = join(__dirname, '../../examples/runbook.yaml');
export const exampleText = readFileSync(EXAMPLE, 'utf8');

/** The example with values changed (removed where the value is undefined). */
export function withChanges(changes: [(string | number)[], unknown][]): string {
  const doc = parseDocument(exampleText);
  for (const [path, value] of changes) {
    if (value === undefined) doc.deleteIn(path);
    else doc.setIn(path, value);
  }
  return doc.toString();
}

export const withChange = (path: (string | number)[], value: unknown): string => withChanges([[path, value]]);

export function problems(text: string): InventoryProblem[] {
  const result = parseInventory(text, 'inv.yaml');
  assert.equal(result.ok, false, 'expected the inventory to be rejected');
  return result.ok ? [] : result.problems;
}

export function assertValid(text: string): void {
  const result = parseInventory(text, 'inv.yaml');
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
}

export function assertRejected(text: string, path: string, message: RegExp): InventoryProblem {
  const found = problems(text);
  const problem = found.find((p) => p.path === path);
  assert.ok(problem, `no problem at ${path}; got:\n${found.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  assert.match(problem.message, message);
  assert.ok(problem.line && problem.line > 1, 'problem has a line number');
  return problem;
}
