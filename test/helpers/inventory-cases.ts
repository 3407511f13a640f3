/**
 * The hostile-inventory corpus (test/fixtures/inventory, cases.json: for each file the exit code
 * and the problem's message, line and path), and the checks that the in-process and the CLI tests
 * of it share.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InventoryProblem } from '../../inventory/load';
import { escapeText } from '../../inventory/problems';
import { MAX_INVENTORY_BYTES } from '../../inventory/read';
import { aliasedUnknownHosts } from '../../scripts/bench/inventory-files';

export const FIXTURES = join(__dirname, '../fixtures/inventory');

// Raw characters that must never reach a terminal: C0 but newline, DEL, C1, line separators, bidi.
// eslint-disable-next-line no-control-regex
export const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

export interface Case {
  exit: number;
  message: string;
  line?: number;
  /** As printed in text (escaped). */
  path?: string;
}

export const manifest = JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as { cases: Record<string, Case> };

/** The problem a case is about: the one at its path, or the first. */
function pick(problems: InventoryProblem[], c: Case): InventoryProblem | undefined {
  return c.path === undefined ? problems[0] : problems.find((p) => escapeText(p.path) === c.path);
}

export function assertProblem(problems: InventoryProblem[], c: Case, label: string): void {
  const problem = pick(problems, c);
  assert.ok(problem, `${label}: no problem${c.path ? ` at ${c.path}` : ''} in ${JSON.stringify(problems.slice(0, 5))}`);
  assert.match(problem.message, new RegExp(c.message), label);
  if (c.line !== undefined) assert.equal(problem.line, c.line, `${label}: line`);
}

/**
 * Files made in `dir` that the loader refuses before parsing, or as an alias bomb: a sparse file
 * over the limit, a FIFO, a directory, /dev/zero and a link to it, a missing file, 600 KB of aliases.
 */
export function specialFileCases(dir: string): { cases: [string, Case][]; fifo: string; bomb: string } {
  const huge = join(dir, 'huge.yaml');
  const fd = openSync(huge, 'w');
  ftruncateSync(fd, MAX_INVENTORY_BYTES + 1); // sparse: refused by its size, never read
  closeSync(fd);
  const fifo = join(dir, 'fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  mkdirSync(join(dir, 'directory.yaml'));
  symlinkSync('/dev/zero', join(dir, 'zero.yaml'));
  const bomb = join(dir, 'aliased-600kb.yaml');
  writeFileSync(bomb, aliasedUnknownHosts(600e3));
  const cases: [string, Case][] = [
    [huge, { exit: 2, message: `larger than the limit of ${MAX_INVENTORY_BYTES} bytes` }],
    [fifo, { exit: 2, message: 'is a FIFO' }],
    [join(dir, 'directory.yaml'), { exit: 2, message: 'is a directory' }],
    ['/dev/zero', { exit: 2, message: 'is a character device' }],
    [join(dir, 'zero.yaml'), { exit: 2, message: 'is a character device' }],
    [join(dir, 'missing.yaml'), { exit: 2, message: 'cannot open the inventory: no such file or directory \\(ENOENT\\)' }],
    [bomb, { exit: 2, message: 'aliases expand .* they may add at most' }],
  ];
  return { cases, fifo, bomb };
}
