/**
 * How problems are printed (inventory/problems.ts): one line each whatever the file holds (every
 * character that could forge, hide or reorder a line escaped), bounded, and the summary line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundProblem, escapeText, formatProblem, formatSummary, MAX_MESSAGE_CHARS, safeJson } from '../../inventory/problems';

test('escapeText: \\n \\r \\t by name; every other control, separator, bidi mark and the BOM as \\uXXXX; the rest as it is', () => {
  assert.equal(escapeText('a\nb\rc\td'), 'a\\nb\\rc\\td');
  const escaped: [string, string][] = [
    ['\u0000', '\\u0000'], ['\u0001', '\\u0001'], ['\u001b', '\\u001b'], ['\u001f', '\\u001f'], ['\u007f', '\\u007f'],
    ['\u0085', '\\u0085'], ['\u009f', '\\u009f'], ['\u061c', '\\u061c'], ['\u200b', '\\u200b'], ['\u200f', '\\u200f'],
    ['\u2028', '\\u2028'], ['\u2029', '\\u2029'], ['\u202a', '\\u202a'], ['\u202e', '\\u202e'], ['\u2060', '\\u2060'],
    ['\u2066', '\\u2066'], ['\u2069', '\\u2069'], ['\ufeff', '\\ufeff'],
  ];
  for (const [raw, shown] of escaped) assert.equal(escapeText(`x${raw}y${raw}`), `x${shown}y${shown}`, shown);
  for (const kept of [' ', '~', '\u00a0', '\u00e9', '\u0620', '\u061d', '\u200a', '\u2010', '\u2027', '\u202f', '\u205f', '\u206a', '\ufefe', '\uff01', '😀']) {
    assert.equal(escapeText(`x${kept}y`), `x${kept}y`, JSON.stringify(kept));
  }
});

test('safeJson: the same value, indented; DEL, C1, separators and bidi marks escaped as well as JSON\'s own', () => {
  const value = { path: 'a\u0001b', message: 'm\u007f\u0085\u2028\u202e\ufeff\u00e9', n: [1] };
  const text = safeJson(value);
  assert.deepEqual(JSON.parse(text), value);
  assert.equal(text, '{\n  "path": "a\\u0001b",\n  "message": "m\\u007f\\u0085\\u2028\\u202e\\ufeff\u00e9",\n  "n": [\n    1\n  ]\n}');
});

test('formatProblem: file:line:column: path: message, parts left out when absent, the whole line escaped', () => {
  assert.equal(formatProblem('inv.yaml', { path: 'hosts.0.name', line: 3, column: 7, message: 'bad' }), 'inv.yaml:3:7: hosts.0.name: bad');
  assert.equal(formatProblem('inv.yaml', { path: 'hosts.0.name', line: 3, message: 'bad' }), 'inv.yaml:3: hosts.0.name: bad');
  assert.equal(formatProblem('inv.yaml', { path: 'hosts', column: 7, message: 'bad' }), 'inv.yaml: hosts: bad');
  assert.equal(formatProblem('inv.yaml', { path: '', line: 1, message: 'empty file' }), 'inv.yaml:1: empty file');
  assert.equal(formatProblem('a\nb.yaml', { path: 'k\u202e', line: 2, message: 'x\ny' }), 'a\\nb.yaml:2: k\\u202e: x\\ny');
});

test('formatSummary: the count, singular or plural, how many are not shown, escaped', () => {
  assert.equal(formatSummary('inv.yaml', 1, 0), '1 problem in inv.yaml; nothing was started');
  assert.equal(formatSummary('inv.yaml', 2, 0), '2 problems in inv.yaml; nothing was started');
  assert.equal(formatSummary('inv.yaml', 100, 1), '101 problems in inv.yaml; the first 100 are shown, and 1 more problem; nothing was started');
  assert.equal(formatSummary('inv.yaml', 100, 5), '105 problems in inv.yaml; the first 100 are shown, and 5 more problems; nothing was started');
  assert.equal(formatSummary('a\rb', 1, 0), '1 problem in a\\rb; nothing was started');
});

test('boundProblem: path at most 200 characters and message at most MAX_MESSAGE_CHARS, with the full length said; the rest kept', () => {
  const short = { path: 'p'.repeat(200), message: 'm'.repeat(MAX_MESSAGE_CHARS), line: 4, column: 2 };
  assert.deepEqual(boundProblem(short), short);
  const long = boundProblem({ path: 'p'.repeat(201), message: 'm'.repeat(MAX_MESSAGE_CHARS + 1), line: 4 });
  assert.deepEqual(long, { path: `${'p'.repeat(200)}…(201 chars)`, message: `${'m'.repeat(MAX_MESSAGE_CHARS)}…(${MAX_MESSAGE_CHARS + 1} chars)`, line: 4 });
});
