/**
 * YAML text to a plain value, with the position of every map key and value kept aside for
 * messages. Bounded: nesting at most MAX_DEPTH levels (checked while parsing, before anything
 * recursive runs), aliases expanded only when the expanded document stays within ALIAS_BUDGET,
 * and every YAML error or warning (unknown tags included) is a problem with its line.
 */
import { Composer, isAlias, isMap, isScalar, isSeq, Lexer, LineCounter, Parser, type CST, type Document, type Node, type YAMLError } from 'yaml';
import { shown } from '../core/show';
import { readPlainYaml } from './plain-yaml';
import type { InventoryProblem } from './problems';

/** The deepest nesting of collections accepted (an inventory needs 8): yaml's composer and zod recurse. */
export const MAX_DEPTH = 64;
/**
 * How many nodes aliases may add to the document: the larger of one million and the number of
 * nodes written. One anchor reused a thousand times for a small node is honest reuse; a document
 * that expands to many times its own size is an alias bomb.
 */
export const ALIAS_FLOOR = 1_000_000;

/** The tags of YAML 1.2's core schema, which add nothing to what plain values are: every other tag is refused. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/** Where each entry of a mapping starts: keys in order, and for each its key's and its value's offsets. */
export interface EntryPositions { keys: string[]; at: number[]; }
/** Where each entry of a map (its key and value) and each item of a list starts in the text. */
export type Positions = Map<object, EntryPositions | number[]>;

/** Where things are in the text: what a problem's line and column come from. */
export interface Located {
  value: unknown;
  /** Offset where the top-level value starts. */
  start: number;
  positions: Positions;
  lines: LineCounter;
}

export interface Parsed {
  ok: true;
  value: unknown;
  /**
   * The positions, for problems only. The plain reader works them out on the first call, reading
   * the text again (into a value of the same shape): a valid inventory never pays for them.
   */
  locations(): Located;
}
export type ParseResult = Parsed | { ok: false; problems: InventoryProblem[] };

function at(lines: LineCounter, offset: number, message: string): InventoryProblem {
  const { line, col } = lines.linePos(offset);
  return line > 0 ? { path: '', line, column: col, message } : { path: '', message };
}

/** The key an error points at, as written (a plain or quoted scalar up to its ':'). */
function keyAt(text: string, offset: number): string {
  const rest = text.slice(offset, offset + 200);
  const match = /^("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\n]*?)\s*:(?:\s|$)/.exec(rest);
  return match?.[1] ?? rest.split('\n')[0]!;
}

function yamlMessage(text: string, error: YAMLError): string {
  switch (error.code) {
    case 'DUPLICATE_KEY':
      return `duplicate key ${shown(keyAt(text, error.pos[0]))}: a key may appear once in a mapping`;
    case 'TAG_RESOLVE_FAILED':
      return `YAML tag ${shown(/tag: (.*)$/.exec(error.message)?.[1] ?? '')} is not supported: only plain YAML 1.2 values (no tags like !!binary, !!js/function or !custom)`;
    default: {
      const first = error.message.split('\n')[0] ?? '';
      return `YAML: ${first}`;
    }
  }
}

interface Sizing {
  anchors: Map<string, Node>;
  aliasTarget: Map<Node, Node>;
  size: Map<Node, number>;
  open: Set<Node>;
  written: number;
  /** Each alias in document order with the nodes it adds. */
  aliases: [offset: number, adds: number][];
  problems: InventoryProblem[];
}

/** Counts the nodes written and the nodes each alias adds; resolves aliases as YAML does (the latest anchor before). */
function sizeOf(node: Node | null | undefined, s: Sizing, lines: LineCounter, depth: number): number {
  if (!node) return 1;
  s.written++;
  if (isAlias(node)) {
    const target = s.anchors.get(node.source);
    const offset = node.range?.[0] ?? 0;
    if (!target) {
      s.problems.push(at(lines, offset, `YAML: alias *${shown(node.source)} refers to no anchor defined before it`));
      return 1;
    }
    if (s.open.has(target)) {
      s.problems.push(at(lines, offset, `YAML: alias *${shown(node.source)} refers to the node that contains it (a cycle)`));
      return 1;
    }
    s.aliasTarget.set(node, target);
    const adds = s.size.get(target) ?? 1;
    s.aliases.push([offset, adds]);
    return adds;
  }
  const { anchor, tag } = node as { anchor?: string; tag?: string };
  if (tag !== undefined && !PLAIN_TAGS.has(tag)) {
    s.problems.push(at(lines, node.range?.[0] ?? 0, `YAML tag ${shown(tag)} is not supported: only plain YAML 1.2 values (no tags like !!binary, !!js/function or !custom)`));
    return 1;
  }
  if (isScalar(node) && !['string', 'number', 'boolean'].includes(typeof node.value) && node.value !== null) {
    s.problems.push(at(lines, node.range?.[0] ?? 0, `YAML: a value of type ${shown(typeof node.value)} is not supported: only strings, numbers, booleans and null`));
    return 1;
  }
  if (anchor) s.anchors.set(anchor, node);
  let total = 1;
  if (isMap(node) || isSeq(node)) {
    if (depth >= MAX_DEPTH) {
      s.problems.push(at(lines, node.range?.[0] ?? 0, `YAML: nested more than ${MAX_DEPTH} levels deep`));
      return 1;
    }
    s.open.add(node);
    for (const item of node.items as unknown[]) {
      if (isMap(node)) {
        const pair = item as { key: Node | null; value: Node | null };
        total += sizeOf(pair.key, s, lines, depth + 1) + sizeOf(pair.value, s, lines, depth + 1);
      } else {
        total += sizeOf(item as Node, s, lines, depth + 1);
      }
    }
    s.open.delete(node);
  }
  s.size.set(node, total);
  return total;
}

/** A map key as the string toJS would make of it, or a problem. */
function keyString(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const value = key.value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}

interface Converting {
  aliasTarget: Map<Node, Node>;
  positions: Positions;
  lines: LineCounter;
  problems: InventoryProblem[];
  /** Where an alias's expansion first nested too deep. */
  tooDeep?: number;
}

function set(object: Record<string, unknown>, key: string, value: unknown): void {
  // '__proto__' as a key is data, never the prototype.
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}

/** The node as a plain value; inside an alias's expansion every position is the alias's. */
function toValue(node: Node | null | undefined, c: Converting, depth: number, aliasAt?: number): unknown {
  if (!node) return null;
  if (isAlias(node)) {
    const target = c.aliasTarget.get(node);
    return target ? toValue(target, c, depth, aliasAt ?? node.range?.[0]) : null;
  }
  if (isScalar(node)) return node.value;
  if (depth >= MAX_DEPTH) {
    // Written nesting this deep was refused by sizeOf: this is an alias's expansion.
    c.tooDeep ??= aliasAt ?? node.range?.[0] ?? 0;
    return null;
  }
  const start = (n: Node | null | undefined) => aliasAt ?? n?.range?.[0] ?? 0;
  if (isSeq(node)) {
    const out: unknown[] = [];
    const where: number[] = [];
    for (const item of node.items as Node[]) {
      out.push(toValue(item, c, depth + 1, aliasAt));
      where.push(start(item));
    }
    c.positions.set(out, where);
    return out;
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    const where: EntryPositions = { keys: [], at: [] };
    for (const pair of node.items as { key: Node | null; value: Node | null }[]) {
      const key = keyString(pair.key);
      if (key === undefined || Object.hasOwn(out, key)) {
        const message = key === undefined
          ? 'a mapping key must be a string or number (not empty, a list or a mapping)'
          : `duplicate key ${shown(key)}: a key may appear once in a mapping`;
        if (c.problems.length < 100) c.problems.push(at(c.lines, start(pair.key ?? node), message));
        continue;
      }
      set(out, key, toValue(pair.value, c, depth + 1, aliasAt));
      where.keys.push(key);
      where.at.push(start(pair.key), start(pair.value ?? pair.key));
    }
    c.positions.set(out, where);
    return out;
  }
  return null;
}

/**
 * yaml's Parser and Composer read process.env (LOG_TOKENS, LOG_STREAM) once per token, and each
 * read of process.env is a call into the runtime: a third of the parsing time on a large file.
 * The parse is synchronous, so a plain object stands in for it meanwhile.
 */
function withPlainEnv<T>(run: () => T): T {
  const env = process.env;
  process.env = {};
  try {
    return run();
  } finally {
    process.env = env;
  }
}

/**
 * The yaml package costs about 2 s and 100 MB per MB of input on a 2-core machine: a file
 * larger than this must be plain YAML (read by plain-yaml.ts in a tenth of that), so that a
 * hostile 16 MiB file costs seconds, not a minute and gigabytes.
 */
export const MAX_FULL_YAML_BYTES = 4 * 1024 * 1024;

export function parseYaml(text: string): ParseResult {
  const plain = readPlainYaml(text);
  if (plain.ok) return plain;
  if (text.length > MAX_FULL_YAML_BYTES / 4 && Buffer.byteLength(text) > MAX_FULL_YAML_BYTES) {
    // Lines are not counted yet: count them up to the offset.
    const line = text.slice(0, plain.declinedAt).split('\n').length;
    return {
      ok: false,
      problems: [{
        path: '',
        line,
        column: 1,
        message: `the inventory is larger than ${MAX_FULL_YAML_BYTES / 1024 / 1024} MiB, and from this line on it is not plain YAML ` +
          '(block mappings and lists, one-line flow collections, plain or simply quoted values, comments): ' +
          'an anchor, alias, tag, block scalar, escape, tab, multi-line value, duplicate key or a YAML error',
      }],
    };
  }
  return parseFullYaml(text);
}

/** Any YAML, with yaml's Parser and Composer: slower, and every error with its message. */
export function parseFullYaml(text: string): ParseResult {
  const lines = new LineCounter();
  const problems: InventoryProblem[] = [];
  const tokens: CST.Token[] = [];
  let tooDeep: number | undefined;
  let docs: Document.Parsed[] = [];
  withPlainEnv(() => {
    const parser = new Parser(lines.addNewLine);
    lines.addNewLine(0);
    for (const lexeme of new Lexer().lex(text, false)) {
      for (const token of parser.next(lexeme)) tokens.push(token);
      // The parser keeps an explicit stack of open collections: stop as soon as it is too deep.
      // (Its offset, not the lexemes' lengths: the lexer adds marks that are not in the text.)
      if (parser.stack.length > MAX_DEPTH + 2) {
        tooDeep = parser.offset;
        return;
      }
    }
    for (const token of parser.end()) tokens.push(token);
    docs = [...new Composer({ uniqueKeys: true, version: '1.2', schema: 'core' }).compose(tokens)];
  });
  if (tooDeep !== undefined) {
    // The rest of the lines were not counted: the position is still right, as lines before it were.
    return { ok: false, problems: [at(lines, tooDeep, `YAML: nested more than ${MAX_DEPTH} levels deep`)] };
  }
  tokens.length = 0;
  const doc = docs[0];
  if (docs.length > 1) {
    problems.push(at(lines, docs[1]!.range[0], `the file holds ${docs.length} YAML documents (separated by ---): an inventory is one document`));
  }
  for (const d of docs) {
    for (const error of [...d.errors, ...d.warnings]) {
      problems.push(at(lines, error.pos[0], yamlMessage(text, error)));
      if (problems.length > 100) break;
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const root = doc?.contents;
  if (!doc || !root || (isScalar(root) && (root.value === null || root.value === undefined))) {
    return { ok: false, problems: [{ path: '', line: 1, column: 1, message: 'the inventory is empty: it must be a YAML mapping (apiVersion: esxi-zfs/v1, credentials, hosts, ...)' }] };
  }
  if (!isMap(root)) {
    const what = isSeq(root) ? 'a list' : isAlias(root) ? 'an alias' : 'a single value';
    return { ok: false, problems: [at(lines, root.range?.[0] ?? 0, `the inventory must be a YAML mapping (apiVersion: esxi-zfs/v1, credentials, hosts, ...), not ${what}`)] };
  }

  const sizing: Sizing = { anchors: new Map(), aliasTarget: new Map(), size: new Map(), open: new Set(), written: 0, aliases: [], problems };
  const expanded = sizeOf(root, sizing, lines, 0);
  if (problems.length > 0) return { ok: false, problems };
  const budget = Math.max(ALIAS_FLOOR, sizing.written);
  if (expanded - sizing.written > budget) {
    // Point at the alias that crossed the budget.
    let added = 0;
    let crossing = 0;
    for (const [offset, adds] of sizing.aliases) {
      added += adds - 1;
      crossing = offset;
      if (added > budget) break;
    }
    return {
      ok: false,
      problems: [at(lines, crossing, `YAML: aliases expand the document's ${sizing.written} nodes to ${expanded > 1e15 ? 'more than 10^15' : expanded}; they may add at most ${budget} (an alias bomb?)`)],
    };
  }
  sizing.size.clear();
  const converting: Converting = { aliasTarget: sizing.aliasTarget, positions: new Map(), lines, problems };
  const value = toValue(root, converting, 0);
  if (problems.length > 0) return { ok: false, problems };
  if (converting.tooDeep !== undefined) {
    return { ok: false, problems: [at(lines, converting.tooDeep, `YAML: aliases nest the document more than ${MAX_DEPTH} levels deep`)] };
  }
  const located: Located = { value, start: root.range?.[0] ?? 0, positions: converting.positions, lines };
  return { ok: true, value, locations: () => located };
}

/**
 * The offset of the deepest node on a path that exists: the value at the path, or (key: true) the
 * key of its last element, or the nearest existing ancestor.
 */
export function locate(parsed: Located, path: readonly PropertyKey[], key = false): number {
  let offset = parsed.start;
  let current: unknown = parsed.value;
  for (let i = 0; i < path.length; i++) {
    const where = current && typeof current === 'object' ? parsed.positions.get(current) : undefined;
    const step = path[i]!;
    if (Array.isArray(where) && typeof step === 'number' && step < where.length) {
      offset = where[step]!;
      current = (current as unknown[])[step];
    } else if (where && !Array.isArray(where) && where.keys.includes(String(step))) {
      const index = where.keys.indexOf(String(step));
      offset = where.at[2 * index + (key && i === path.length - 1 ? 0 : 1)]!;
      current = (current as Record<string, unknown>)[String(step)];
    } else {
      break;
    }
  }
  return offset;
}
