/**
 * Reading an inventory file as a trust boundary (inventory/read.ts): only a regular file, never
 * past the limit whatever fstat says, only UTF-8 text without NUL, each refusal saying where.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { decodeInventory, firstInvalidUtf8, readInventoryFile } from '../../inventory/read';

const bytes = (...values: number[]) => Uint8Array.from(values);

test('firstInvalidUtf8: well-formed sequences of 1 to 4 bytes pass; the offset of the first bad byte otherwise', () => {
  assert.equal(firstInvalidUtf8(Buffer.from('a: é € 😀 \u{10ffff}', 'utf8')), -1);
  assert.equal(firstInvalidUtf8(bytes()), -1);
  assert.equal(firstInvalidUtf8(bytes(0x7f, 0xc2, 0x80, 0xdf, 0xbf, 0xe0, 0xa0, 0x80, 0xef, 0xbf, 0xbf, 0xf0, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf)), -1);
  const bad: [string, number[], number][] = [
    ['a lone continuation byte', [0x61, 0x80], 1],
    ['0xC0 (overlong lead)', [0x61, 0x62, 0xc0, 0x80], 2],
    ['0xC1 (overlong lead)', [0xc1, 0xbf], 0],
    ['0xF5 (beyond U+10FFFF)', [0xf5, 0x80, 0x80, 0x80], 0],
    ['0xFF', [0x20, 0xff], 1],
    ['a 3-byte overlong', [0xe0, 0x80, 0x80], 0],
    ['a 3-byte overlong at the edge (U+07FF)', [0xe0, 0x9f, 0xbf], 0],
    ['a 4-byte overlong (U+FFFF)', [0xf0, 0x8f, 0xbf, 0xbf], 0],
    ['a surrogate (U+D800)', [0x61, 0xed, 0xa0, 0x80], 1],
    ['a surrogate (U+DFFF)', [0xed, 0xbf, 0xbf], 0],
    ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['a sequence cut by the end', [0x61, 0xe2, 0x82], 1],
    ['a bad continuation', [0xe2, 0x28, 0xa1], 0],
    ['a bad last continuation', [0xf0, 0x90, 0x80, 0x41], 0],
    ['a continuation byte as a 2-byte lead', [0xbf, 0x80], 0],
    ['continuation bytes as a 3-byte lead', [0xbf, 0xbf, 0xbf], 0],
    ['a bad continuation after a 2-byte lead', [0xc3, 0x28], 0],
  ];
  for (const [what, b, at] of bad) {
    assert.equal(firstInvalidUtf8(bytes(...b)), at, what);
    // decodeInventory asks node's native isUtf8 first: it must refuse the same bytes.
    assert.equal(isUtf8(bytes(...b)), false, `isUtf8: ${what}`);
  }
  assert.equal(firstInvalidUtf8(bytes(0xed, 0x9f, 0xbf)), -1, 'U+D7FF is no surrogate');
  assert.equal(firstInvalidUtf8(bytes(0xee, 0x80, 0x80)), -1, 'U+E000 is no surrogate');
});

test('decodeInventory: UTF-16 by its BOM or its NULs, a NUL or bad UTF-8 at its line and column, a UTF-8 BOM dropped', () => {
  assert.deepEqual(decodeInventory(bytes(0xff, 0xfe, 0x61, 0)), { ok: false, message: 'the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8' });
  assert.deepEqual(decodeInventory(bytes(0xfe, 0xff, 0, 0x61)), { ok: false, message: 'the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8' });
  const utf16 = { ok: false, line: 1, column: 1, message: 'the file looks like UTF-16 (every other byte is NUL); save it as UTF-8' };
  assert.deepEqual(decodeInventory(Buffer.from('a: 1\n', 'utf16le')), utf16);
  assert.deepEqual(decodeInventory(bytes(0, 0x61, 0, 0x3a)), utf16);
  const nul = (line: number, column: number) => ({ ok: false, line, column, message: 'the file contains a NUL byte: an inventory is UTF-8 text' });
  assert.deepEqual(decodeInventory(Buffer.from('a: 1\nbb: \0x\n')), nul(2, 5));
  assert.deepEqual(decodeInventory(bytes(0x61, 0, 0x62)), nul(1, 2), 'odd length: not UTF-16');
  assert.deepEqual(decodeInventory(bytes(0x61, 0x62, 0x63, 0)), nul(1, 4), 'the NUL is not in the first two bytes');
  assert.deepEqual(decodeInventory(bytes(0x61, 0x0a, 0x0a, 0x62, 0x63, 0xff)), { ok: false, line: 3, column: 3, message: 'the file is not valid UTF-8 text' });
  assert.deepEqual(decodeInventory(bytes(0xef, 0xbb, 0xbf, 0x61, 0x3a, 0x20, 0xc3, 0xa9)), { ok: true, text: 'a: é' });
  assert.deepEqual(decodeInventory(bytes(0xef, 0xbb, 0x61)), { ok: false, line: 1, column: 1, message: 'the file is not valid UTF-8 text' });
  assert.deepEqual(decodeInventory(Buffer.from('x: 1\n')), { ok: true, text: 'x: 1\n' });
  assert.deepEqual(decodeInventory(bytes(0x61, 0)), utf16, 'two bytes, one NUL: UTF-16');
  // Half a BOM is no BOM: these are (invalid) UTF-8.
  for (const b of [[0xff, 0x61], [0x61, 0xfe], [0xfe, 0x61], [0x61, 0xff]]) {
    assert.deepEqual(decodeInventory(bytes(...b)), { ok: false, line: 1, column: b[0] === 0x61 ? 2 : 1, message: 'the file is not valid UTF-8 text' }, JSON.stringify(b));
  }
  // Text whose first bytes are partly a UTF-8 BOM's keeps them.
  for (const text of ['a\u00bf', '\u0eff', '\uf03f', '\ufec0', '\uf000']) assert.deepEqual(decodeInventory(Buffer.from(text)), { ok: true, text }, JSON.stringify(text));
  const inside = Buffer.from('--x: 1\n').subarray(2);
  assert.deepEqual(decodeInventory(inside), { ok: true, text: 'x: 1\n' }, 'a view into a larger buffer');
});

test('readInventoryFile: a regular file up to the limit; larger, another kind of file or a missing one refused, saying why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inv-read-'));
  try {
    const file = join(dir, 'inv.yaml');
    writeFileSync(file, 'a: 1\n');
    assert.deepEqual(readInventoryFile(file), { ok: true, text: 'a: 1\n' });
    assert.deepEqual(readInventoryFile(file, 5), { ok: true, text: 'a: 1\n' });
    assert.deepEqual(readInventoryFile(file, 4), { ok: false, message: 'the inventory is larger than the limit of 4 bytes (0 MiB)' });
    writeFileSync(file, Buffer.alloc(1.5 * 1024 * 1024 + 1, 0x61));
    assert.deepEqual(readInventoryFile(file, 1.5 * 1024 * 1024), { ok: false, message: 'the inventory is larger than the limit of 1572864 bytes (1.5 MiB)' });
    writeFileSync(file, '');
    assert.deepEqual(readInventoryFile(file), { ok: true, text: '' });
    // procfs says size 0 and has more: read until the end or the limit, whatever fstat said.
    const status = readInventoryFile('/proc/self/status');
    assert.ok(status.ok && status.text.startsWith('Name:') && status.text.length > 100, JSON.stringify(status).slice(0, 200));
    assert.deepEqual(readInventoryFile('/proc/self/status', 20), { ok: false, message: 'the inventory is larger than the limit of 20 bytes (0 MiB)' });

    assert.deepEqual(readInventoryFile(dir), { ok: false, message: 'the inventory is a directory, not a regular file' });
    const block = readdirSync('/dev').map((f) => `/dev/${f}`).find((f) => statSync(f, { throwIfNoEntry: false })?.isBlockDevice());
    assert.ok(block, 'a block device under /dev (the lab makes loop devices)');
    assert.deepEqual(readInventoryFile(block), { ok: false, message: 'the inventory is a block device, not a regular file' });
    // A regular file by fstat that fails to read: the system's words.
    assert.deepEqual(readInventoryFile('/proc/self/mem'), { ok: false, message: 'cannot read the inventory: i/o error (EIO)' });
    // Every descriptor is closed, whatever the outcome.
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    for (let i = 0; i < 50; i++) for (const f of [file, dir, '/proc/self/mem', '/dev/null']) readInventoryFile(f, 4);
    assert.equal(open(), before);
    assert.deepEqual(readInventoryFile('/dev/null'), { ok: false, message: 'the inventory is a character device, not a regular file' });
    const socket = join(dir, 'sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      assert.deepEqual(readInventoryFile(socket), { ok: false, message: 'cannot open the inventory: no such device or address (ENXIO)' });
    } finally {
      server.close();
    }
    assert.deepEqual(readInventoryFile(join(dir, 'missing.yaml')), { ok: false, message: 'cannot open the inventory: no such file or directory (ENOENT)' });
    assert.deepEqual(readInventoryFile(join(file, 'below-a-file')), { ok: false, message: 'cannot open the inventory: not a directory (ENOTDIR)' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
