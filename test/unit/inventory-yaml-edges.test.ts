/**
 * inventory/yaml.ts at its edges: how a duplicate key is quoted back (escapes, quotes, colons,
 * tabs, a key longer than the window it is read from), empty values, a float tag, a plain file over
 * 4 MiB, and `locate`'s defaults and stops. Written for the mutants
 * inventory-yaml-full.test.ts left alive (docs/mutation.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locate, MAX_FULL_YAML_BYTES, parseFullYaml, parseYaml } from '../../inventory/yaml';

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
  assert.deepEqual(problems('? a\n? a\nc: 1\n'), [{ line: 2, column: 3, message: DUPLICATE('"a"') }]);
  assert.deepEqual(problems('"a: b": 1\n"a: b": 2\n'), [{ line: 2, column: 1, message: DUPLICATE('"\\"a: b\\""') }]);
  assert.deepEqual(problems("'a: b': 1\n'a: b': 2\n"), [{ line: 2, column: 1, message: DUPLICATE('"\'a: b\'"') }]);
  assert.deepEqual(problems('ab: 1\nab: 2\n'), [{ line: 2, column: 1, message: DUPLICATE('"ab"') }]);
  assert.deepEqual(problems('k: 1\nk:'), [{ line: 2, column: 1, message: DUPLICATE('"k"') }]);
  assert.deepEqual(problems('{a: 1, a: 2}\n'), [{ line: 1, column: 8, message: DUPLICATE('"a"') }]);
  // Read from a window of 200 characters: a longer key shows as its first 200, cut to 60 in the message.
  const long = 'k'.repeat(250);
  assert.deepEqual(problems(`${long}: 1\n${long}: 2\n`), [{ line: 2, column: 1, message: DUPLICATE(`"${'k'.repeat(60)}…(200 chars)"`) }]);
});

test('values: keys without a value, the float tag, a plain file over 4 MiB read by the plain reader', () => {
  for (const [text, expected] of [['x: {a, b: 1}\n', { x: { a: null, b: 1 } }], ['? a\nb: 1\n', { a: null, b: 1 }], ['a: !!float 1.5\n', { a: 1.5 }]] as const) {
    const result = parseFullYaml(text);
    assert.ok(result.ok, text);
    assert.deepStrictEqual(result.value, expected);
  }
  const big = `a: 1\n# ${'c'.repeat(MAX_FULL_YAML_BYTES)}\n`;
  const result = parseYaml(big);
  assert.ok(result.ok);
  assert.deepStrictEqual(result.value, { a: 1 });
});

test('locate: the value unless asked for the key, and it stops at the first step that is not there', () => {
  const result = parseFullYaml('a:\n  undefined: 1\n  c: 2\nb: 3\n');
  assert.ok(result.ok);
  const located = result.locations();
  assert.equal(locate(located, ['a']), 5, "a's value, not its key nor a key named undefined");
  assert.equal(locate(located, ['a'], true), 0);
  assert.equal(locate(located, ['a', 'missing', 'c']), 5, 'not the c under a: the path stopped at missing');
  assert.equal(locate(located, ['b']), 28);
});
