/**
 * The plain-YAML reader (inventory/plain-yaml.ts) against the yaml package: whatever it accepts,
 * yaml reads to the same value with the same positions; it declines everything else. Checked on
 * the example, the fixtures, generated inventories, and a few thousand mutations of the example.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { locate, parseFullYaml, type Parsed } from '../../inventory/yaml';
import { readPlainYaml } from '../../inventory/plain-yaml';
import { inventoryOfErrors, validInventory } from '../../scripts/bench/inventory-files';

const example = readFileSync(join(__dirname, '../../examples/runbook.yaml'), 'utf8');
const FIXTURES = join(__dirname, '../fixtures/inventory');

/** Every path in a value, with and without pointing at the key. */
function paths(value: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) paths(v, [...path, Array.isArray(value) ? Number(k) : k], out);
  }
  return out;
}

/** Returns whether the plain reader accepted the text; fails if it disagrees with yaml. */
function agree(text: string, label: string): boolean {
  const plain = readPlainYaml(text);
  if (!plain.ok) return false;
  const result = parseFullYaml(text);
  assert.ok(result.ok, `${label}: the plain reader accepted what yaml refuses: ${JSON.stringify(result.ok ? '' : result.problems[0])}\n${text.slice(0, 300)}`);
  const full: Parsed = result;
  assert.ok(isDeepStrictEqual(plain.value, full.value), `${label}: values differ`);
  const [at, fullAt] = [plain.locations(), full.locations()];
  assert.ok(isDeepStrictEqual(at.value, plain.value), `${label}: the second reading, with positions, reads another value`);
  for (const path of paths(plain.value)) {
    for (const key of [false, true]) {
      const a = at.lines.linePos(locate(at, path, key));
      const b = fullAt.lines.linePos(locate(fullAt, path, key));
      assert.deepEqual(a, b, `${label}: position of ${path.join('.')}${key ? ' (key)' : ''}`);
    }
  }
  return true;
}

test('the plain reader reads the example, generated inventories and plain fixtures as yaml does', () => {
  assert.ok(agree(example, 'example'));
  assert.ok(agree(validInventory(30_000), 'generated valid'));
  assert.ok(agree(inventoryOfErrors(30_000), 'generated errors'));
  for (const name of readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml'))) agree(readFileSync(join(FIXTURES, name), 'latin1'), name);
});

test('mutations of the example: the plain reader agrees with yaml or declines', () => {
  // A small deterministic generator: the same mutations on every run.
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = [' ', '  ', ':', ': ', '-', '- ', '#', ' #', '[', ']', '{', '}', ',', '"', "'", '&a ', '*a', '!', '|', '>', '?', '\n', '\n  ', '~', 'null', 'true', '0x1', '1e3', '.5', '@', '%', '\\', 'é', '--- ', '<<: '];
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    let text = example;
    for (let k = 0, n = 1 + random(3); k < n; k++) {
      const at = random(text.length);
      const piece = pieces[random(pieces.length)]!;
      text = random(3) === 0 ? text.slice(0, at) + text.slice(at + 1 + random(3)) : text.slice(0, at) + piece + text.slice(at);
    }
    if (agree(text, `mutation ${i}`)) accepted++;
  }
  assert.ok(accepted > 200, `only ${accepted} of the mutations were plain enough to check`);
});

test('the plain reader takes (not only agrees on) every construct an inventory is written with', () => {
  const plain: string[] = [
    'a: 1\n',
    'a: 1',
    'a: 123456789012345\n',
    'a: true\nb: false\nc: True\nd: FALSE\n',
    'a: text with spaces\n',
    'a: 10.0.1.41/24\nb: 1.2.3\nc: 2001:db8::1\n',
    'a: "double: quoted"\nb: \'single # quoted\'\n',
    'a: x # a comment\n# a whole-line comment\n\n  # indented comment\nb: y\n',
    'a:\n  b: 1\n  c:\n    d: deep\n',
    'list:\n  - 1\n  - two\n  - { k: v }\n',
    'list:\n- a\n- b\n',
    'maps:\n  - name: x\n    size: 2\n  - name: y\n',
    'a: {b: 1}\n',
    'flow: { a: 1, b: [x, y], c: { d: e } }\n',
    'flow: [ ]\nempty: { }\n',
    'flow: [a, "b c", \'d\', 12]\n',
    'flow: { a: "x, y", b: \'[z]\' }  # comment\n',
    'key_with-dash: 1\n_under: 2\n',
    'a: x\n\n\nb: y\n',
    'a: 0x\n',
    'a: v-1\nb: e-\u00e9\n',
    'a: é ü 日本\n',
  ];
  assert.deepEqual(plain.filter((text) => !readPlainYaml(text).ok), [], 'declined');
  for (const text of plain) assert.ok(agree(text, JSON.stringify(text)));
});

test('the plain reader leaves to yaml what it does not model, so yaml gives the value or the error', () => {
  const other: string[] = [
    '--- \na: 1\n', 'a: 1\n...\n', '  a: 1\n', 'a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: |\n  text\n', 'a: >\n  text\n',
    'a: "esc\\n"\n', 'a:\tb\n', 'a: 1\r\n', 'a: 1\nb: 2\na: 3\n', 'null: 1\n', 'true: 1\n', '__proto__: 1\n', 'a: ~\n', 'a: null\n',
    'a: 1.5\n', 'a: 1e3\n', 'a: 0o17\n', 'a: 0x1F\n', 'a: .inf\n', 'a: -1\n', 'a: 1234567890123456\n', 'a:b\n', 'a: b: c\n', 'a: b:\n',
    'a: [1, 2\n', 'nested:\n  - - a\n    - b\n', 'a: { b: 1 } x\n', 'a: [a: b]\n', 'a: [x # y]\n', 'a: "unclosed\n', '- a\n', 'a: #x\n',
    '? a\n: 1\n', 'a: @x\n', 'a: `x`\n', 'a: %x\n', 'a:\n  - x\n   - y\n', 'a:\n  b: 1\n   c: 2\n', 'a: "x" y\n', "a: 'x'y\n",
    'a:\n', 'a: { a: 1, a: 2 }\n', 'a: { null: 1 }\n', 'a: { b: "c\\"" }\n', 'a: [ "b\\n" ]\n', 'a: [ b, ]\n', 'a: { b }\n',
  ];
  assert.deepEqual(other.filter((text) => readPlainYaml(text).ok), [], 'taken');
});
