/**
 * The plain-YAML reader (inventory/plain-yaml.ts) on small documents, one construct at a time:
 * the exact value it reads, every position it records (the same line and column as the yaml
 * package gives), and where it declines. Fast on purpose: mutation testing runs this file once per
 * mutant of the reader (inventory-yaml.test.ts checks it against yaml on whole inventories).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPlainYaml } from '../../inventory/plain-yaml';
import { declines, takes } from '../helpers/plain-yaml';

test('scalars: small integers, booleans, plain and quoted strings', () => {
  takes('a: 1\n', { a: 1 });
  takes('a: 1', { a: 1 });
  takes('a: 0\nb: 007\n', { a: 0, b: 7 });
  takes('a: 123456789012345\n', { a: 123456789012345 });
  takes('a: true\nb: True\nc: TRUE\nd: false\ne: False\nf: FALSE\n', { a: true, b: true, c: true, d: false, e: false, f: false });
  takes('a: tRUE\nb: falsey\nc: xtrue\nd: true1\ne: 12a\nf: a12\n', { a: 'tRUE', b: 'falsey', c: 'xtrue', d: 'true1', e: '12a', f: 'a12' });
  takes('a: text with  spaces   \n', { a: 'text with  spaces' });
  takes('a: x#y\nb: x # comment\nc: 1 #\n', { a: 'x#y', b: 'x', c: 1 });
  takes('a: 10.0.1.41/24\nb: 1.2.3\nc: 2001:db8::1\nd: a:b\ne: 0x\nf: v-1\ng: x-\n', { a: '10.0.1.41/24', b: '1.2.3', c: '2001:db8::1', d: 'a:b', e: '0x', f: 'v-1', g: 'x-' });
  takes('a: "x: y # z"\nb: \'p, [q]\'\nc: ""\nd: \'\'\ne: "q"  # c\n', { a: 'x: y # z', b: 'p, [q]', c: '', d: '', e: 'q' });
  takes("a: 'it\\s'\n", { a: 'it\\s' });
  takes('a: é ü 日本\n', { a: 'é ü 日本' });
  takes('a: nullx\nb: Nulls\nc: e1\n', { a: 'nullx', b: 'Nulls', c: 'e1' });
});

test('block mappings and lists, nested, with comments and blank lines', () => {
  takes('# head\n\na: x # c\n  # indented comment\n\n\nb: y\n', { a: 'x', b: 'y' });
  takes('a:\n  b: 1\n  c:\n    d: deep\ne: 2\n', { a: { b: 1, c: { d: 'deep' } }, e: 2 });
  takes('a: # note\n  b: 1\n', { a: { b: 1 } });
  takes('a:    \n  b: 1\n', { a: { b: 1 } });
  takes('list:\n  - 1\n  - two\n  - { k: v }\n  - [x]\n', { list: [1, 'two', { k: 'v' }, ['x']] });
  takes('list:\n- a\n-   b\nnext: 1\n', { list: ['a', 'b'], next: 1 });
  takes('maps:\n  - name: x\n    size: 2\n  -   name: y\n      deep:\n        - z\n  - k: v\n', { maps: [{ name: 'x', size: 2 }, { name: 'y', deep: ['z'] }, { k: 'v' }] });
  takes('a:\n  - x: 1\n    l:\n    - p\n    - q\n    y: 2\n', { a: [{ x: 1, l: ['p', 'q'], y: 2 }] });
  takes('a:\n  b:\n    c: 1\n  d: 2\ne: 3\n', { a: { b: { c: 1 }, d: 2 }, e: 3 });
  takes('key_with-dash: 1\n_under: 2\nA9: 3\nnullable: 4\ntruth: 5\nFalsey: 6\n', { 'key_with-dash': 1, _under: 2, A9: 3, nullable: 4, truth: 5, Falsey: 6 });
  takes('a: x:y\nb: 1-x\n', { a: 'x:y', b: '1-x' });
});

test('flow collections on one line', () => {
  takes('a: {b: 1}\n', { a: { b: 1 } });
  takes('flow: { a: 1, b: [x, y], c: { d: e } }\n', { flow: { a: 1, b: ['x', 'y'], c: { d: 'e' } } });
  takes('flow: [ ]\nempty: { }\nbare: []\nnone: {}\n', { flow: [], empty: {}, bare: [], none: {} });
  takes('flow: [a, "b c", \'d\', 12, true,   spaced  ]\n', { flow: ['a', 'b c', 'd', 12, true, 'spaced'] });
  takes('flow: { a: "x, y", b: \'[z]\' }  # comment\n', { flow: { a: 'x, y', b: '[z]' } });
  takes('flow: [[1, [2]], {a: {b: [c]}}]\n', { flow: [[1, [2]], { a: { b: ['c'] } }] });
  takes('l:\n  - [a, b] # c\n', { l: [['a', 'b']] });
  takes('f: {a:  1,b: 2}\n', { f: { a: 1, b: 2 } });
});

test('declined in reading lines: the offset of the first character yaml must judge, or 0', () => {
  declines('a: 1\nb:\t2\n', 7);
  declines('\ufeffa: 1\n', 0);
  declines('a: 1\r\n', 4);
  declines('a: \u0085\n', 3);
  declines('a: \u007f\n', 3);
  declines('a: \u0000\n', 3);
  declines('a: \u001f\n', 3);
  declines('a: \u2028\n', 3);
  declines('a: \u000b\n', 3);
  declines('a: 1\n---\n', 0);
  declines('a: 1\n--- x\n', 0);
  declines('a: 1\n...\n', 0);
});

test('declined while reading: the start of the line it stopped on', () => {
  declines('', 0);
  declines('\n\n# only comments\n', 0);
  declines('  a: 1\n', 0);
  declines('# c\n  a: 1\n', 4);
  declines('- a\n', 0);
  declines('# c\n- a\n', 4);
  declines('a: 1\nb: ~\n', 5);
  declines('a: 1\nb: 2\na: 3\n', 10);
  declines('a: 1\nb: [1, 2\n', 5);
  declines('a:\n', 0);
  declines('x: 1\na:\n', 5);
  declines('x: 1\na: # c\n', 5);
  declines('x: 1\na:\nb: 1\n', 8);
  declines('x: 1\ny:\n  z: 1\n   w: 2\n', 15);
  declines('x: 1\ny:\n  - z\n   - w\n', 14);
  declines('x: 1\ny:\n  - z\n  w: 1\n', 14);
  declines('x: 1\ny:\n  - z\n  -\n', 14);
  declines('x: 1\ny:\n  -\n', 8);
  declines('x: 1\ny:\n  - - z\n', 8);
  declines('x: 1\ny:\n  - -\n', 8);
  declines('x: 1\ny: 1\n  z: 2\n', 10);
  declines('x: 1\nnull: 1\n', 5);
  declines('x: 1\n__proto__: 1\n', 5);
  declines('x: 1\n1a: 1\n', 5);
  declines('x: 1\na:b\n', 5);
  declines('x: 1\na :b\n', 5);
  declines('x: 1\na:#x\n', 5);
  declines('x: 1\na: b: c\n', 5);
  declines('x: 1\na: b:\n', 5);
  declines('x: 1\na: "x" y\n', 5);
  declines("x: 1\na: 'x'y\n", 5);
  declines('x: 1\na: "x"#y\n', 5);
  declines('x: 1\na: "unclosed\n', 5);
  declines("x: 1\na: 'unclosed\n", 5);
  declines('x: 1\na: "esc\\n"\n', 5);
  declines('x: 1\na: { b: 1 } x\n', 5);
  declines('x: 1\na: { b: 1 }# x\n', 5);
  declines('x: 1\na: [a: b]\n', 5);
  declines('x: 1\na: [x # y]\n', 5);
  declines('x: 1\na: [ b, ]\n', 5);
  declines('x: 1\na: { b }\n', 5);
  declines('x: 1\na: { b:1 }\n', 5);
  declines('x: 1\na: { a: 1, a: 2 }\n', 5);
  declines('x: 1\na: { null: 1 }\n', 5);
  declines('x: 1\na: { __proto__: 1 }\n', 5);
  declines('x: 1\na: { 1: 1 }\n', 5);
  declines('x: 1\na: { b: "c\\"" }\n', 5);
  declines('x: 1\na: [ "b\\n" ]\n', 5);
  declines('x: 1\na: [ "b ]\n', 5);
  declines("x: 1\na: [ 'b ]\n", 5);
  declines('x: 1\na: [ b ; c\n', 5);
  declines('x: 1\na: [ b } \n', 5);
  declines('x: 1\n- a\n', 5);
  declines('x: 1\na:\n  - x\nb:\n- y\n  - z\n', 21);
});

test('declined scalars: whatever the core schema reads as another type, or an indicator', () => {
  const others = ['~', 'null', 'Null', 'NULL', '0o17', '-1', '+1', '1234567890123456', '0x1F', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', '.NAN',
    '1e3', '1.5e-3', '.5e2', '1.5', '.5', '-1.', '@x', '`x`', '%x', '&a x', '*a', '!t x', '|', '>', '?', ':x', ',x', ']', '}', '#x', '\\x', '-x', 'x\\'];
  for (const scalar of others.filter((s) => s !== 'x\\')) {
    declines(`x: 1\na: ${scalar}\n`, 5);
    declines(`x: 1\na: [${scalar}]\n`, 5);
  }
  takes('a: x\\\nb: [x\\]\n', { a: 'x\\', b: ['x\\'] });
  takes('a: 1e\nb: 1.2.3\nc: 0o8\nd: 0xg\ne: .infx\nf: x.5\n', { a: '1e', b: '1.2.3', c: '0o8', d: '0xg', e: '.infx', f: 'x.5' });
});

test('the nesting limit of yaml.ts holds in the plain reader too', () => {
  const deep = (n: number) => Array.from({ length: n }, (_, i) => `${' '.repeat(2 * i)}k:\n`).join('') + `${' '.repeat(2 * n)}v: 1\n`;
  assert.ok(readPlainYaml(deep(62)).ok);
  assert.equal(readPlainYaml(deep(64)).ok, false);
  const flow = (n: number) => `a: ${'['.repeat(n)}${']'.repeat(n)}\n`;
  assert.ok(readPlainYaml(flow(62)).ok);
  assert.equal(readPlainYaml(flow(64)).ok, false);
  const lists = (n: number) => `a:\n${Array.from({ length: n }, (_, i) => `${' '.repeat(2 * i + 2)}- k:\n`).join('')}${' '.repeat(2 * n + 2)}- v\n`;
  assert.ok(readPlainYaml(lists(30)).ok);
  assert.equal(readPlainYaml(lists(33)).ok, false);
});
