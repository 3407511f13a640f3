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
  for (const path of paths(plain.value)) {
    for (const key of [false, true]) {
      const a = plain.lines.linePos(locate(plain, path, key));
      const b = full.lines.linePos(locate(full, path, key));
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
