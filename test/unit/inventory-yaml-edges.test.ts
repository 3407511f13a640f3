/**
 * inventory/yaml.ts at its edges: how a duplicate key is quoted back (escapes, quotes, colons,
 * tabs, a key longer than the window it is read from). Written for the mutants
 * inventory-yaml-full.test.ts left alive (docs/mutation.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFullYaml } from '../../inventory/yaml';

function problems(text: string): { line?: number; column?: number; message: string }[] {
  const result = parseFullYaml(text);
  assert.equal(result.ok, false, JSON.stringify(text));
  return result.ok ? [] : result.problems.map(({ line, column, message }) => ({ line, column, message }));
}

const DUPLICATE = (shown: string) => `duplicate key ${shown}: a key may appear once in a mapping`;

test('a duplicate key is named as written: quoted, escaped, with colons, tabs, and cut when long', () => {
  assert.deepEqual(problems('"a\\"b": 1\n"a\\"b": 2\n'), [{ line: 2, column: 1, message: DUPLICATE('"\\"a\\\\\\"b\\""') }]);
  assert.deepEqual(problems("'x''': 1\n'x''': 2\n"), [{ line: 2, column: 1, message: DUPLICATE('"\'x\'\'\'"') }]);
  assert.deepEqual(problems('"a": 1\n"a" : 2\n'), [{ line: 2, column: 1, message: DUPLICATE('"\\"a\\""') }]);
  assert.deepEqual(problems('a:b: 1\na:b: 2\n'), [{ line: 2, column: 1, message: DUPLICATE('"a:b"') }]);
  assert.deepEqual(problems('a\t: 1\na\t: 2\n'), [{ line: 2, column: 1, message: DUPLICATE('"a"') }]);
  assert.deepEqual(problems('a: 1\na:\n  x: 1\n'), [{ line: 2, column: 1, message: DUPLICATE('"a"') }]);
  assert.deepEqual(problems('? a\n? a\n'), [{ line: 2, column: 3, message: DUPLICATE('"a"') }]);
  assert.deepEqual(problems('{a: 1, a: 2}\n'), [{ line: 1, column: 8, message: DUPLICATE('"a"') }]);
  // Read from a window of 200 characters: a longer key shows as its first 200, cut to 60 in the message.
  const long = 'k'.repeat(250);
  assert.deepEqual(problems(`${long}: 1\n${long}: 2\n`), [{ line: 2, column: 1, message: DUPLICATE(`"${'k'.repeat(60)}…(200 chars)"`) }]);
});
