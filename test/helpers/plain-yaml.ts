/** Assertions on the plain-YAML reader (inventory/plain-yaml.ts): what it reads, where, and where it declines. */
import assert from 'node:assert/strict';
import { locate, parseFullYaml } from '../../inventory/yaml';
import { readPlainYaml } from '../../inventory/plain-yaml';

/** Every path in a value. */
function paths(value: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) paths(v, [...path, Array.isArray(value) ? Number(k) : k], out);
  }
  return out;
}

/** The plain reader takes the text, reads `expected`, and places every key and value where yaml does. */
export function takes(text: string, expected: unknown): void {
  const label = JSON.stringify(text);
  const plain = readPlainYaml(text);
  assert.ok(plain.ok, `${label}: declined at ${plain.ok ? '' : plain.declinedAt}`);
  if (!plain.ok) return;
  assert.deepStrictEqual(plain.value, expected, label);
  const full = parseFullYaml(text);
  assert.ok(full.ok, label);
  if (!full.ok) return;
  const at = plain.locations();
  assert.equal(plain.locations(), at, `${label}: positions are worked out once`);
  assert.deepStrictEqual(at.value, expected, `${label}: the reading with positions`);
  const fullAt = full.locations();
  assert.equal(at.start, fullAt.start, `${label}: start`);
  for (const path of paths(expected)) {
    for (const key of [false, true]) {
      assert.deepEqual(at.lines.linePos(locate(at, path, key)), fullAt.lines.linePos(locate(fullAt, path, key)), `${label}: ${path.join('.')}${key ? ' (key)' : ''}`);
    }
  }
}

/** The plain reader declines the text, saying it stopped at `offset`. */
export function declines(text: string, offset: number): void {
  assert.deepStrictEqual(readPlainYaml(text), { ok: false, declinedAt: offset }, JSON.stringify(text));
}
