/**
 * The plain-YAML reader at its edges: the near misses on each side of its patterns, document
 * markers inside a line, reserved keys in every spelling, and the nesting limit at yaml.ts's own
 * boundary. Written for the mutants plain-yaml.test.ts left alive (docs/mutation.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFullYaml } from '../../inventory/yaml';
import { readPlainYaml } from '../../inventory/plain-yaml';
import { declines, takes } from '../helpers/plain-yaml';

test('near misses of the patterns: scalars, list items and document markers', () => {
  takes('l:\n  - a:b\n  - c\n', { l: ['a:b', 'c'] });
  takes('l:\n  - a:\n      b: 1\n', { l: [{ a: { b: 1 } }] });
  takes('a: 0o\nb: +a\nc: .in\nd: x---\ne: a...\n', { a: '0o', b: '+a', c: '.in', d: 'x---', e: 'a...' });
  for (const c of ['\u0001', '\u0008', '\u000c', '\u000e', '\u009f', '\u2029']) declines(`a: x${c}\n`, 4);
  declines('x: 1\na: ---\n', 5);
  takes('x: 1\na: ... x\n', { x: 1, a: '... x' });
  declines('x: 1\n---x\n', 5);
  declines('x: 1\n....\n', 5);
});

test('keys the core schema reads as null or a boolean, in every spelling, block and flow', () => {
  for (const key of ['Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE']) {
    declines(`x: 1\n${key}: 1\n`, 5);
    declines(`x: 1\na: { ${key}: 1 }\n`, 5);
  }
});

test('the nesting limit: the plain reader declines from the depth yaml.ts refuses, and takes the one below', () => {
  const deepMap = (n: number) => Array.from({ length: n }, (_, i) => `${' '.repeat(2 * i)}k:\n`).join('') + `${' '.repeat(2 * n)}v: 1\n`;
  const flowList = (n: number) => `a: ${'['.repeat(n)}${']'.repeat(n)}\n`;
  const flowMap = (n: number) => `a: ${'{b: '.repeat(n)}1${'}'.repeat(n)}\n`;
  const listMaps = (n: number) => `a:\n${Array.from({ length: n }, (_, i) => `${' '.repeat(2 * i + 2)}- k:\n`).join('')}${' '.repeat(2 * n + 2)}- v\n`;
  const nest = (n: number) => Array.from({ length: n }, (_, i) => `${' '.repeat(2 * i)}k:\n`).join('');
  const listAt = (n: number) => `${nest(n)}${' '.repeat(2 * n)}- v\n`;
  const mapItemAt = (n: number) => `${nest(n)}${' '.repeat(2 * n)}- a: 1\n`;
  for (const [shape, refusedFrom] of [[deepMap, 64], [flowList, 64], [flowMap, 64], [listMaps, 32], [listAt, 64], [mapItemAt, 63]] as const) {
    assert.ok(readPlainYaml(shape(refusedFrom - 1)).ok, `${shape.name} ${refusedFrom - 1}`);
    assert.ok(parseFullYaml(shape(refusedFrom - 1)).ok);
    assert.equal(readPlainYaml(shape(refusedFrom)).ok, false, `${shape.name} ${refusedFrom}`);
    assert.equal(parseFullYaml(shape(refusedFrom)).ok, false);
  }
});

test('numbers with several digits in each part are the core schema\'s floats: declined', () => {
  for (const scalar of ['12e3', '.55e2', '1.55e3', '1e33', '.55', '12.5', '1.55', '-12.5e10']) {
    declines(`x: 1\na: ${scalar}\n`, 5);
  }
  takes('a: x1e3\nb: xfalse\nc: xnull\n', { a: 'x1e3', b: 'xfalse', c: 'xnull' });
  takes('xnull: 1\nmytrue: 2\nnotFalse: 3\n', { xnull: 1, mytrue: 2, notFalse: 3 });
});

test('lines: a leading newline, a comment after spaces, a key not at the line\'s start', () => {
  takes('\na: 1\n', { a: 1 });
  takes('a: x   # c\nb: "y"   # c\n', { a: 'x', b: 'y' });
  declines('x: 1\n0: a\n', 5);
  declines('x: 1\nab  c\n', 5);
  declines('x: 1\na: "x"y #c\n', 5);
  declines('x:\n  b:\nc: 1\n', 8);
  declines('- a\nb: 1\n', 4);
});

test('flow: a key without its colon, a backslash in single quotes, the limit inside lists and maps', () => {
  declines('x: 1\na: { ab  c }\n', 5);
  takes("a: ['x\\y', { k: 'p\\q' }]\n", { a: ['x\\y', { k: 'p\\q' }] });
  const inList = (n: number) => `a:\n  - ${'['.repeat(n)}${']'.repeat(n)}\n`;
  const inMap = (n: number) => `a: {b: ${'['.repeat(n)}${']'.repeat(n)}}\n`;
  for (const shape of [inList, inMap]) {
    const from = Array.from({ length: 70 }, (_, n) => n).find((n) => !parseFullYaml(shape(n)).ok)!;
    assert.ok(readPlainYaml(shape(from - 1)).ok, `${shape.name} ${from - 1}`);
    assert.equal(readPlainYaml(shape(from)).ok, false, `${shape.name} ${from}`);
  }
});
