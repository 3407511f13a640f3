/**
 * Reads an inventory file as a trust boundary: only a regular file, at most MAX_INVENTORY_BYTES
 * (checked with fstat on the opened descriptor, and again while reading, so that /dev/zero, a FIFO
 * or a file that grows is never read past the limit), and only UTF-8 text without NUL bytes.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';

/**
 * 16 MiB: a real inventory is a few kilobytes (the runbook's is 4 KB); the loading benchmark's
 * 10 MB inventory of ~6000 hosts must still load, and at the measured cost per megabyte a file at
 * the limit stays within seconds and a few hundred megabytes.
 */
export const MAX_INVENTORY_BYTES = 16 * 1024 * 1024;

/** Where in the file a read problem is (the line of a NUL byte or of invalid UTF-8). */
export type ReadResult = { ok: true; text: string } | { ok: false; message: string; line?: number; column?: number };

function kind(stats: import('node:fs').Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  // A socket is refused by open itself (ENXIO); nothing else is left.
  return 'not a regular file';
}

/** The 1-based line and column (in bytes) of a byte offset. */
function bytePosition(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) { line++; start = i + 1; }
  return { line, column: offset - start + 1 };
}

/** The offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) { i++; continue; }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** Decodes the bytes of an inventory, or says why they are not UTF-8 YAML text. */
export function decodeInventory(bytes: Uint8Array): ReadResult {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return { ok: false, message: 'the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8' };
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    // ASCII text in UTF-16 without a byte order mark: every other byte is NUL.
    const utf16 = bytes.length >= 2 && (bytes[0] === 0 || bytes[1] === 0) && bytes.length % 2 === 0;
    return utf16
      ? { ok: false, line: 1, column: 1, message: 'the file looks like UTF-16 (every other byte is NUL); save it as UTF-8' }
      : { ok: false, ...bytePosition(bytes, nul), message: 'the file contains a NUL byte: an inventory is UTF-8 text' };
  }
  // isUtf8 is native; the position is worked out only for text that is not UTF-8.
  if (!isUtf8(bytes)) {
    const bad = Math.max(0, firstInvalidUtf8(bytes));
    return { ok: false, ...bytePosition(bytes, bad), message: 'the file is not valid UTF-8 text' };
  }
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return { ok: true, text: Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start).toString('utf8') };
}

/** "no such file or directory (ENOENT)": the system's words without the path, which the caller shows. */
function systemError(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  const words = /^[A-Z0-9_]+: ([^,]*)/.exec(message ?? '')?.[1] ?? 'error';
  return code ? `${words} (${code})` : words;
}

/** Reads at most limit + 1 bytes of a regular file, then decodes them. */
export function readInventoryFile(file: string, limit = MAX_INVENTORY_BYTES): ReadResult {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO without a writer must not hang; fstat then refuses it.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { ok: false, message: `cannot open the inventory: ${systemError(error)}` };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { ok: false, message: `the inventory is ${kind(stats)}, not a regular file` };
    const tooLarge = `the inventory is larger than the limit of ${limit} bytes (${+(limit / 1024 / 1024).toFixed(2)} MiB)`;
    if (stats.size > limit) return { ok: false, message: tooLarge };
    // Read until end of file or limit + 1 bytes, whatever fstat said: the file may grow meanwhile.
    const chunks: Buffer[] = [];
    let length = 0;
    let chunk = Buffer.allocUnsafe(Math.min(limit + 1, stats.size + 1));
    for (;;) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, limit + 1 - length), null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      length += n;
      if (length > limit) return { ok: false, message: tooLarge };
      chunk = Buffer.allocUnsafe(Math.min(limit + 1 - length, 1024 * 1024));
    }
    return decodeInventory(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
  } catch (error) {
    return { ok: false, message: `cannot read the inventory: ${systemError(error)}` };
  } finally {
    closeSync(fd);
  }
}
