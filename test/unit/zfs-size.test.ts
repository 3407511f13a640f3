/** ZFS's size grammar (libzfs's zfs_nicestrtonum), the one reader of sizes in the guest code and the inventory. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseZfsSize } from '../../core/guest/zfs-size';

const KiB = 2 ** 10;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

test('units: a letter alone, or with B or iB, in either case; B alone; exact bytes', () => {
  assert.equal(parseZfsSize('10G'), 10 * GiB);
  assert.equal(parseZfsSize('10GB'), 10 * GiB);
  assert.equal(parseZfsSize('10GiB'), 10 * GiB);
  assert.equal(parseZfsSize('10gib'), 10 * GiB);
  assert.equal(parseZfsSize('10gb'), 10 * GiB);
  assert.equal(parseZfsSize('1.5t'), 1.5 * TiB);
  assert.equal(parseZfsSize('128K'), 131072);
  assert.equal(parseZfsSize('3M'), 3 * 2 ** 20);
  assert.equal(parseZfsSize('2P'), 2 * 2 ** 50);
  assert.equal(parseZfsSize('0.001e'), Math.trunc(0.001 * 2 ** 60));
  assert.equal(parseZfsSize('512'), 512);
  assert.equal(parseZfsSize('512B'), 512);
  assert.equal(parseZfsSize('512b'), 512);
  assert.equal(parseZfsSize('0'), 0);
  assert.equal(parseZfsSize('123456'), 123456);
});

test('the number: decimals as strtod reads them, a fraction cut to whole bytes as ZFS casts it', () => {
  assert.equal(parseZfsSize('.5K'), 512);
  assert.equal(parseZfsSize('.25K'), 256);
  assert.equal(parseZfsSize('2.K'), 2 * KiB);
  assert.equal(parseZfsSize('0.7K'), 716, '716.8 bytes: ZFS stores 716, not 717');
  assert.equal(parseZfsSize('1.98G'), Math.trunc(1.98 * GiB));
  assert.equal(parseZfsSize('3.87GB'), 4155380858);
});

test('`none` is 0; blanks around a size are ignored (a line end, a padded column)', () => {
  assert.equal(parseZfsSize('none'), 0);
  assert.equal(parseZfsSize(' 444K\r'), 444 * KiB);
});

test('not sizes: undefined', () => {
  for (const text of ['lots', '', 'G', '.', '-1', '1e3', '1 G', '1GG', '1iB', '1Gi', '1BB', '1BiB', '1Z', '1KBB', 'x1K', '1Kx', 'None', '0x10']) {
    assert.equal(parseZfsSize(text), undefined, JSON.stringify(text));
  }
});

test('beyond 2^53 bytes there is no exact number: undefined', () => {
  assert.equal(parseZfsSize('7.99P'), Math.trunc(7.99 * 2 ** 50));
  assert.equal(parseZfsSize(String(2 ** 53 - 1)), 2 ** 53 - 1);
  assert.equal(parseZfsSize('8P'), undefined);
  assert.equal(parseZfsSize('9007199254740993'), undefined);
  assert.equal(parseZfsSize('16E'), undefined);
});
