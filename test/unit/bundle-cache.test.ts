import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { cachedBundle, sourcesDigest } from '../../workers/bundle-cache';

function checkout(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'bundle-cache-'));
  mkdirSync(path.join(root, 'workflows'));
  mkdirSync(path.join(root, 'core', 'zfs'), { recursive: true });
  writeFileSync(path.join(root, 'workflows', 'index.ts'), 'export {};\n');
  writeFileSync(path.join(root, 'core', 'zfs', 'plan.ts'), 'export const a = 1;\n');
  writeFileSync(path.join(root, 'package-lock.json'), '{}\n');
  return root;
}

test('the digest changes with any file the bundle is made of, and with nothing else', () => {
  const root = checkout();
  try {
    const first = sourcesDigest(root);
    writeFileSync(path.join(root, 'README.md'), 'x');
    mkdirSync(path.join(root, 'activities'));
    writeFileSync(path.join(root, 'activities', 'a.ts'), 'x');
    assert.equal(sourcesDigest(root), first, 'activities/ and README are not in the bundle');
    writeFileSync(path.join(root, 'core', 'zfs', 'plan.ts'), 'export const a = 2;\n');
    const second = sourcesDigest(root);
    assert.notEqual(second, first);
    writeFileSync(path.join(root, 'package-lock.json'), '{"v":2}\n');
    assert.notEqual(sourcesDigest(root), second);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('made once per digest; concurrent callers get one whole file; old bundles of other sources go', async () => {
  const root = checkout();
  try {
    let made = 0;
    const make = async (out: string) => {
      made++;
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(out, `bundle ${made}`);
    };
    const [a, b] = await Promise.all([cachedBundle(root, make), cachedBundle(root, make)]);
    assert.equal(a, b);
    assert.match(readFileSync(a, 'utf8'), /^bundle \d$/);
    assert.equal(await cachedBundle(root, make), a);
    assert.equal(made, 2, 'the two concurrent misses each made one; the third call reused it');
    const dir = path.dirname(a);
    assert.deepEqual(readdirSync(dir), [path.basename(a)], 'no partial file left');

    const old = path.join(dir, 'old.js');
    writeFileSync(old, 'older sources');
    utimesSync(old, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
    assert.equal(await cachedBundle(root, async () => { throw new Error('webpack would fail'); }), a, 'same sources: the kept bundle, make not called');
    writeFileSync(path.join(root, 'workflows', 'index.ts'), 'export const changed = 1;\n');
    const c = await cachedBundle(root, make);
    assert.notEqual(c, a);
    assert.deepEqual(readdirSync(dir).sort(), [path.basename(a), path.basename(c)].sort(), 'the 2 h old bundle is removed, the recent one kept');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
