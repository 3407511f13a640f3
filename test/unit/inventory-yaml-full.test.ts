/**
 * inventory/yaml.ts on small documents: the value, every YAML-level problem with its exact message,
 * line and column, the bounds (nesting, aliases, size, problems), and `locate`. Fast on purpose:
 * mutation testing runs this file once per mutant of yaml.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALIAS_FLOOR, locate, MAX_DEPTH, MAX_FULL_YAML_BYTES, parseFullYaml, parseYaml } from '../../inventory/yaml';
import type { InventoryProblem } from '../../inventory/problems';

function value(text: string): unknown {
  const result = parseFullYaml(text);
  assert.ok(result.ok, `${JSON.stringify(text)}: ${JSON.stringify(result.ok ? '' : result.problems)}`);
  return result.ok ? result.value : undefined;
}

function problems(text: string, parse = parseFullYaml): InventoryProblem[] {
  const result = parse(text);
  assert.equal(result.ok, false, JSON.stringify(text));
  return result.ok ? [] : result.problems;
}

/** The text gives exactly one problem, at this line and column. */
function refused(text: string, line: number, column: number, message: string): void {
  assert.deepStrictEqual(problems(text), [{ path: '', line, column, message }], JSON.stringify(text));
}

const TAG = (tag: string) => `YAML tag ${tag} is not supported: only plain YAML 1.2 values (no tags like !!binary, !!js/function or !custom)`;
const DUPLICATE = (key: string) => `duplicate key ${key}: a key may appear once in a mapping`;
const EMPTY = 'the inventory is empty: it must be a YAML mapping (apiVersion: esxi-zfs/v1, credentials, hosts, ...)';
const NOT_A_MAP = (what: string) => `the inventory must be a YAML mapping (apiVersion: esxi-zfs/v1, credentials, hosts, ...), not ${what}`;
const BAD_KEY = 'a mapping key must be a string or number (not empty, a list or a mapping)';

test('values: the core schema, anchors and aliases, keys made strings', () => {
  assert.deepStrictEqual(value('a: 1\nb: [x, "y", 1.5, true, ~, null]\nc: { d: e }\n'), { a: 1, b: ['x', 'y', 1.5, true, null, null], c: { d: 'e' } });
  assert.deepStrictEqual(value('a: !!str 1\nb: !!int "2"\nc: !!map { d: !!seq [!!null ~, !!bool true] }\n'), { a: '1', b: 2, c: { d: [null, true] } });
  assert.deepStrictEqual(value('a: &x 1\nb: &x 2\nc: *x\n'), { a: 1, b: 2, c: 2 });
  assert.deepStrictEqual(value('a: &m { k: [1, 2] }\nb: *m\nc: [*m, *m]\n'), { a: { k: [1, 2] }, b: { k: [1, 2] }, c: [{ k: [1, 2] }, { k: [1, 2] }] });
  assert.deepStrictEqual(value('1: a\ntrue: b\n"x y": c\nk:\n'), { 1: 'a', true: 'b', 'x y': 'c', k: null });
  assert.deepStrictEqual(value('a: [1, , 2]\n'.replace(', ,', ',')), { a: [1, 2] });
  assert.deepStrictEqual(value('a:\n  - \n  - x\n'), { a: [null, 'x'] });
  const proto = value('__proto__: { polluted: 1 }\nb: 2\n') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepStrictEqual(Object.keys(proto), ['__proto__', 'b']);
  assert.deepStrictEqual(Object.getOwnPropertyDescriptor(proto, '__proto__'), { value: { polluted: 1 }, enumerable: true, writable: true, configurable: true });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const env = process.env;
  value('a: 1\n');
  assert.equal(process.env, env, 'process.env is put back');
});

test('YAML errors and warnings: line, column and a message naming the problem', () => {
  refused('a: 1\na: 2\n', 2, 1, DUPLICATE('"a"'));
  refused('x: 1\n  "a b" : 1\n  "a b": 2\n'.replace('x: 1\n', 'x:\n'), 3, 3, DUPLICATE('"\\"a b\\""'));
  refused("'it''s': 1\n'it''s': 2\n", 2, 1, DUPLICATE('"\'it\'\'s\'"'));
  refused('k: 1\nk : 2\n', 2, 1, DUPLICATE('"k"'));
  refused('k: 1\nk:\n', 2, 1, DUPLICATE('"k"'));
  refused('a: 1\n1: 2\n"1": 3\n', 3, 1, DUPLICATE('"1"'));
  refused('a: !!binary aGk=\n', 1, 13, TAG('"tag:yaml.org,2002:binary"'));
  refused('a: !custom x\n', 1, 4, TAG('"!custom"'));
  refused('a: ! x\n', 1, 6, TAG('"!"'));
  refused('a: !!set {b}\n', 1, 10, TAG('"tag:yaml.org,2002:set"'));
  refused('a:\n  b: !custom { c: 1 }\n', 2, 6, TAG('"!custom"'));
  refused('a: [1\n', 2, 1, 'YAML: Flow sequence in block collection must be sufficiently indented and end with a ]');
  refused('a: b: c\n', 1, 4, 'YAML: Nested mappings are not allowed in compact mappings');
  refused('a: "\\x"\n', 1, 5, 'YAML: Invalid escape sequence \\x"');
  refused('x: *a\n', 1, 4, 'YAML: alias *"a" refers to no anchor defined before it');
  refused('x: *a\ny: &a 1\n', 1, 4, 'YAML: alias *"a" refers to no anchor defined before it');
  refused('a: &x [1, *x]\n', 1, 11, 'YAML: alias *"x" refers to the node that contains it (a cycle)');
  refused('a: &x { b: { c: *x } }\n', 1, 17, 'YAML: alias *"x" refers to the node that contains it (a cycle)');
  refused('a: 1\n---\nb: 2\n---\nc: 3\n', 2, 1, 'the file holds 3 YAML documents (separated by ---): an inventory is one document');
  refused('a: 1\n---\nb: 2\n', 2, 1, 'the file holds 2 YAML documents (separated by ---): an inventory is one document');
  const many = Array.from({ length: 150 }, () => 'k: 1\n').join('');
  const found = problems(many);
  assert.equal(found.length, 101);
  assert.deepStrictEqual(found[100], { path: '', line: 102, column: 1, message: DUPLICATE('"k"') });
  const docs = problems('a: 1\n---\nb: 2\nb: 3\n');
  assert.deepStrictEqual(docs.map((p) => [p.line, p.message.slice(0, 14)]), [[2, 'the file holds'], [4, 'duplicate key ']]);
});

test('keys that are not strings or numbers, and keys equal once made strings', () => {
  refused('x: 1\n? [a, b]\n: 1\n', 2, 3, BAD_KEY);
  refused('~: 1\n', 1, 1, BAD_KEY);
  refused('{a: 1}: 2\n', 1, 1, BAD_KEY);
  refused('a:\n  ? \n  : 1\n', 2, 5, BAD_KEY);
  refused('a: 1\n1: 2\n"1": 3\n', 3, 1, DUPLICATE('"1"'));
  refused('a:\n  x: 1\n  true: 2\n  "true": 3\n', 4, 3, DUPLICATE('"true"'));
  const keys = Array.from({ length: 120 }, (_, i) => `[${i}]: 1\n`).join('');
  const found = problems(keys);
  assert.equal(found.length, 100);
  assert.deepStrictEqual(found[99], { path: '', line: 100, column: 1, message: BAD_KEY });
});

test('empty documents and documents that are not a mapping', () => {
  for (const text of ['', '\n', '# only a comment\n', 'null\n', '~\n', '---\n']) {
    assert.deepStrictEqual(problems(text), [{ path: '', line: 1, column: 1, message: EMPTY }], JSON.stringify(text));
  }
  refused('- a\n', 1, 1, NOT_A_MAP('a list'));
  refused('# c\n  - a\n', 2, 3, NOT_A_MAP('a list'));
  refused('x\n', 1, 1, NOT_A_MAP('a single value'));
  refused('\n\n  12\n', 3, 3, NOT_A_MAP('a single value'));
  refused('"a: b"\n', 1, 1, NOT_A_MAP('a single value'));
  refused('*a\n', 1, 1, NOT_A_MAP('an alias'));
});

test('nesting: at most MAX_DEPTH levels, written or through aliases', () => {
  assert.equal(MAX_DEPTH, 64);
  const flow = (n: number) => `a: ${'['.repeat(n)}${']'.repeat(n)}\n`;
  assert.ok(parseFullYaml(flow(63)).ok);
  refused(flow(64), 1, 67, 'YAML: nested more than 64 levels deep');
  // The parser's own offset: the same column whatever comes before (the lexer's marks are not text).
  refused(flow(200), 1, 69, 'YAML: nested more than 64 levels deep');
  refused(`\n${flow(200)}`, 2, 69, 'YAML: nested more than 64 levels deep');
  refused(`${'k: v\n'.repeat(3)}\n${flow(200)}`, 5, 69, 'YAML: nested more than 64 levels deep');
  const block = (n: number) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k:\n`).join('') + `${' '.repeat(n)}v: 1\n`;
  assert.ok(parseFullYaml(block(63)).ok);
  refused(block(64), 65, 69, 'YAML: nested more than 64 levels deep');
  const flowMap = (n: number) => `a: ${'{b: '.repeat(n)}1${'}'.repeat(n)}\n`;
  assert.ok(parseFullYaml(flowMap(63)).ok);
  assert.equal(problems(flowMap(64))[0]!.message, 'YAML: nested more than 64 levels deep');

  const aliased = (inner: number, outer: number) => `a: &x ${'['.repeat(inner)}1${']'.repeat(inner)}\nb: ${'['.repeat(outer)}*x${']'.repeat(outer)}\n`;
  assert.ok(parseFullYaml(aliased(30, 33)).ok);
  assert.deepStrictEqual((parseFullYaml(aliased(1, 1)) as { value: unknown }).value, { a: [1], b: [[1]] });
  refused(aliased(30, 34), 2, 38, 'YAML: aliases nest the document more than 64 levels deep');
  refused(aliased(62, 62), 2, 66, 'YAML: aliases nest the document more than 64 levels deep');
  const twice = `a: &x ${'['.repeat(40)}1${']'.repeat(40)}\nb: ${'['.repeat(30)}*x${']'.repeat(30)}\nc: ${'['.repeat(30)}*x${']'.repeat(30)}\n`;
  refused(twice, 2, 34, 'YAML: aliases nest the document more than 64 levels deep');
});

test('aliases: honest reuse is read, an alias bomb is refused at the alias that crosses the budget', () => {
  assert.equal(ALIAS_FLOOR, 1_000_000);
  const reuse = `a: &a { k: [1, 2, 3] }\nl: [${Array.from({ length: 100 }, () => '*a').join(', ')}]\n`;
  const read = value(reuse) as { l: unknown[] };
  assert.equal(read.l.length, 100);
  assert.deepStrictEqual(read.l[99], { k: [1, 2, 3] });

  const level = (name: string, item: string) => `${name}: &${name} [${Array.from({ length: 10 }, () => item).join(', ')}]\n`;
  const bomb = (levels: number) => level('a', 'x') + Array.from({ length: levels }, (_, i) => level(String.fromCharCode(98 + i), `*${String.fromCharCode(97 + i)}`)).join('');
  refused(bomb(5), 6, 36, "YAML: aliases expand the document's 73 nodes to 1234573; they may add at most 1000000 (an alias bomb?)");
  assert.ok(parseFullYaml(bomb(4)).ok, '123 462 nodes from 62 written: within the floor');
  refused(bomb(5).replace('\nb:', '\nz:\nb:'), 7, 36, "YAML: aliases expand the document's 75 nodes to 1234575; they may add at most 1000000 (an alias bomb?)");
  // Aliases may add exactly the floor, not one node more.
  const floor = (uses: number) => `a: &a [${Array.from({ length: 1000 }, () => 'x').join(', ')}]\nb: [${Array.from({ length: uses }, () => '*a').join(', ')}]\n`;
  assert.equal((value(floor(1000)) as { b: unknown[] }).b.length, 1000);
  refused(floor(1001), 2, 4005, "YAML: aliases expand the document's 2006 nodes to 1003006; they may add at most 1000000 (an alias bomb?)");
  refused(bomb(13), 6, 36, "YAML: aliases expand the document's 169 nodes to 123456790123469; they may add at most 1000000 (an alias bomb?)");
  refused(bomb(14), 6, 36, "YAML: aliases expand the document's 181 nodes to more than 10^15; they may add at most 1000000 (an alias bomb?)");
});

test('parseYaml: the plain reader first, yaml for the rest, and only plain YAML over 4 MiB', () => {
  assert.equal(MAX_FULL_YAML_BYTES, 4 * 1024 * 1024);
  const plain = parseYaml('a: 1\nb: [x]\n');
  assert.ok(plain.ok);
  assert.deepStrictEqual(plain.value, { a: 1, b: ['x'] });
  const full = parseYaml('a: &x 1\nb: *x\n');
  assert.ok(full.ok);
  assert.deepStrictEqual(full.value, { a: 1, b: 1 });
  assert.deepStrictEqual(problems('a: 1\na: 2\n', parseYaml), [{ path: '', line: 2, column: 1, message: DUPLICATE('"a"') }]);

  const message = 'the inventory is larger than 4 MiB, and from this line on it is not plain YAML ' +
    '(block mappings and lists, one-line flow collections, plain or simply quoted values, comments): ' +
    'an anchor, alias, tag, block scalar, escape, tab, multi-line value, duplicate key or a YAML error';
  const filler = (bytes: number) => `# ${'c'.repeat(bytes - 3)}\n`;
  const head = 'a: 1\nb: 2\nc: &x 3\n';
  const over = head + filler(MAX_FULL_YAML_BYTES + 1 - head.length);
  assert.equal(Buffer.byteLength(over), MAX_FULL_YAML_BYTES + 1);
  assert.deepStrictEqual(problems(over, parseYaml), [{ path: '', line: 3, column: 1, message }]);
  // Two bytes a character: over 4 MiB in bytes with fewer characters than that.
  const wide = `a: 1\nb: &x ${'é'.repeat(MAX_FULL_YAML_BYTES / 2)}\n`;
  assert.ok(wide.length < MAX_FULL_YAML_BYTES);
  assert.deepStrictEqual(problems(wide, parseYaml), [{ path: '', line: 2, column: 1, message }]);
  // At exactly the limit yaml reads it (here: to one problem, quickly).
  const at = `${head}d: *y\n` + filler(MAX_FULL_YAML_BYTES - head.length - 6);
  assert.equal(Buffer.byteLength(at), MAX_FULL_YAML_BYTES);
  assert.deepStrictEqual(problems(at, parseYaml), [{ path: '', line: 4, column: 4, message: 'YAML: alias *"y" refers to no anchor defined before it' }]);
});

test('locate: the value, the key, or the nearest ancestor that exists', () => {
  const text = 'a: 1\nb:\n  c: [x, { d: y }]\n  e: &z { f: 2 }\ng: *z\n';
  const result = parseFullYaml(text);
  assert.ok(result.ok);
  const located = result.locations();
  assert.equal(located.start, 0);
  const offset = (path: PropertyKey[], key = false) => locate(located, path, key);
  const off = (line: number, col: number) => {
    const at = located.lines.lineStarts[line - 1]! + col - 1;
    assert.deepEqual(located.lines.linePos(at), { line, col });
    return at;
  };
  assert.equal(offset([]), 0);
  assert.equal(offset(['a']), off(1, 4));
  assert.equal(offset(['a'], true), off(1, 1));
  assert.equal(offset(['b']), off(3, 3));
  assert.equal(offset(['b'], true), off(2, 1));
  assert.equal(offset(['b', 'c']), off(3, 6));
  assert.equal(offset(['b', 'c'], true), off(3, 3));
  assert.equal(offset(['b', 'c', 0]), off(3, 7));
  assert.equal(offset(['b', 'c', 1]), off(3, 10));
  assert.equal(offset(['b', 'c', 1], true), off(3, 10));
  assert.equal(offset(['b', 'c', 1, 'd']), off(3, 15));
  assert.equal(offset(['b', 'c', 1, 'd'], true), off(3, 12));
  assert.equal(offset(['b', 'c', 2]), off(3, 6), 'past the end: the list');
  assert.equal(offset(['b', 'c', '0']), off(3, 6), 'a string step on a list: the list');
  assert.equal(offset(['b', 'missing', 'x']), off(3, 3), 'a missing key: its parent');
  assert.equal(offset(['b', 'missing'], true), off(3, 3), 'a missing key: its parent, not its key');
  assert.equal(offset(['b', 'c', 5], true), off(3, 6));
  assert.equal(offset(['a', 'x']), off(1, 4), 'below a scalar: the scalar');
  assert.equal(offset(['b', 'e', 'f']), off(4, 14));
  assert.equal(offset(['b', 'e', 'f'], true), off(4, 11));
  assert.equal(offset(['b', 'c'], false), off(3, 6));
  assert.equal(offset(['g', 'f']), off(5, 4), 'inside an alias: the alias');
  assert.equal(offset(['g', 'f'], true), off(5, 4));
  assert.equal(offset(['g']), off(5, 4));
  const list = parseFullYaml('a:\n  - 1\n  - 2\n');
  assert.ok(list.ok);
  assert.equal(locate(list.locations(), ['a', 1]), 13);
  assert.equal(locate(list.locations(), ['a', 1], true), 13);
  const indented = parseFullYaml('# c\n  a: 1\n');
  assert.ok(indented.ok);
  assert.equal(indented.locations().start, 6);
  assert.equal(locate(indented.locations(), ['nothing']), 6);
});
