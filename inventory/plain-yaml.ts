/**
 * A fast reader for the plain YAML an inventory is written in: block mappings and lists, flow
 * mappings and lists on one line, plain and simply quoted scalars, comments. It gives the same
 * value as the yaml package (YAML 1.2 core schema), with the same positions, in a fraction of the
 * time and memory, or undefined as soon as it meets anything else (anchors, aliases, tags, block
 * scalars, escapes, multi-line scalars or flow collections, tabs, CR, duplicate keys, numbers other
 * than small integers, ...): the caller then parses with the yaml package, which also gives
 * every error its message. Being a strict subset, it cannot accept what yaml would refuse.
 */
import { LineCounter } from 'yaml';
import { MAX_DEPTH, type EntryPositions, type Located, type Parsed, type Positions } from './yaml';

class Bail extends Error {}
// eslint-disable-next-line no-control-regex
const NOT_PLAIN = /[\t\r\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufeff\u2028\u2029]/;
const bail = (): never => {
  throw new Bail();
};

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*/;
const FLOW_KEY = /[A-Za-z_][A-Za-z0-9_-]*/y;
const FLOW_PLAIN = /[^,[\]{}]*/y;
const RESERVED_KEY = /^(?:[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
/** The core schema's tests other than plain decimal integers and strings: these go to yaml. */
const OTHER_SCALAR = /^(?:~|[Nn]ull|NULL|0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/;
// Characters that start something other than a plain scalar, or are easier left to yaml.
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`\\]/;

function plainValue(text: string): unknown {
  if (/^[0-9]{1,15}$/.test(text)) return Number(text);
  if (/^(?:[Tt]rue|TRUE)$/.test(text)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(text)) return false;
  if (text === '' || OTHER_SCALAR.test(text) || INDICATOR.test(text)) bail();
  return text;
}

interface Line { indent: number; start: number; text: string; }

/**
 * Reads once without positions (a valid inventory needs none) and, when asked, again with them:
 * `positions` and `counter` are then set, and every collection's entries are recorded.
 */
class Reader {
  private readonly lines: Line[] = [];
  private i = 0;

  /** Where reading stopped: the start of the line being read. */
  here(): number {
    return this.lines[Math.min(this.i, this.lines.length - 1)]?.start ?? 0;
  }

  constructor(text: string, readonly positions?: Positions, readonly counter?: LineCounter) {
    if (NOT_PLAIN.test(text)) bail();
    let start = 0;
    counter?.addNewLine(0);
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      else counter?.addNewLine(end + 1);
      const raw = text.slice(start, end);
      const content = raw.trimStart();
      if (content !== '' && content[0] !== '#') {
        if (/^(?:---|\.\.\.)(?:\s|$)/.test(raw)) bail();
        this.lines.push({ indent: raw.length - content.length, start, text: raw.trimEnd() });
      }
      start = end + 1;
    }
  }

  value(): { value: unknown; start: number } {
    const first = this.lines[0];
    if (!first || first.indent !== 0) bail();
    // block() reads every line or bails: a mapping or list at column 0 ends only with the text.
    const value = this.block(0, 0);
    return { value, start: first!.start };
  }

  /** A block mapping or list whose entries start at column `indent`. */
  private block(indent: number, depth: number, inMappingColumn = false): unknown {
    if (depth >= MAX_DEPTH) bail();
    // Callers pass the column of the line at hand. A lone '-' (a null item) is not modelled: read
    // as a mapping, it has no key.
    const line = this.lines[this.i]!;
    return line.text.startsWith('- ', indent)
      ? this.list(indent, depth, inMappingColumn)
      : inMappingColumn ? bail() : this.mapping(indent, depth, indent);
  }

  /** Items at column `indent`; a list at its mapping's own column ends at the mapping's next key. */
  private list(indent: number, depth: number, inMappingColumn: boolean): unknown[] {
    const out: unknown[] = [];
    const where: number[] | undefined = this.positions && [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent) bail();
      if (!line.text.startsWith('- ', indent)) {
        if (inMappingColumn) break;
        bail();
      }
      const column = indent + 2 + (line.text.length - indent - 2 - line.text.slice(indent + 2).trimStart().length);
      // A nested '- ' or a lone '-' is left to yaml: read as a scalar, its '-' is an indicator.
      const rest = line.text.slice(column);
      where?.push(line.start + column);
      if (KEY.test(rest) && /^[A-Za-z_][A-Za-z0-9_-]*:(?: |$)/.test(rest)) {
        // A mapping in the list item, its first entry on the item's line.
        out.push(this.mapping(column, depth + 1, column));
      } else {
        out.push(this.inline(line, column, depth + 1));
        this.i++;
      }
    }
    if (where) this.positions!.set(out, where);
    return out;
  }

  /** Entries at column `indent`; the first may share its line with a list item's '- '. */
  private mapping(indent: number, depth: number, firstColumn: number): Record<string, unknown> {
    if (depth >= MAX_DEPTH) bail();
    const out: Record<string, unknown> = {};
    const where: EntryPositions | undefined = this.positions && { keys: [], at: [] };
    let first = true;
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      const column = first ? firstColumn : line.indent;
      if (!first && line.indent < indent) break;
      if (!first && line.indent > indent) bail();
      first = false;
      const rest = line.text.slice(column);
      const key = KEY.exec(rest)?.[0];
      if (!key || RESERVED_KEY.test(key) || key === '__proto__' || Object.hasOwn(out, key)) bail();
      const after = rest.slice(key!.length);
      if (!after.startsWith(':') || (after.length > 1 && after[1] !== ' ')) bail();
      const valueText = after.slice(1).trimStart();
      const keyAt = line.start + column;
      if (valueText === '' || valueText.startsWith('#')) {
        // The value is the block on the next lines: more indented, or a list at the same column
        // (block() takes nothing else there).
        this.i++;
        const next = this.lines[this.i];
        if (!next || next.indent < indent) bail();
        const valueAt = next!.start + next!.indent;
        out[key!] = this.block(next!.indent, depth + 1, next!.indent === indent);
        where?.keys.push(key!);
        where?.at.push(keyAt, valueAt);
      } else {
        const valueColumn = column + key!.length + (after.length - valueText.length);
        out[key!] = this.inline(line, valueColumn, depth + 1);
        where?.keys.push(key!);
        where?.at.push(keyAt, line.start + valueColumn);
        this.i++;
      }
    }
    if (where) this.positions!.set(out, where);
    return out;
  }

  /** A value written after a key or '- ' on one line: a flow collection or a scalar, then maybe a comment. */
  private inline(line: Line, column: number, depth: number): unknown {
    const text = line.text;
    const c = text[column];
    if (c === '[' || c === '{') {
      const flow = new Flow(text, column, line.start, this.positions);
      const value = flow.collection(depth);
      flow.end();
      return value;
    }
    if (c === '"' || c === "'") {
      const close = text.indexOf(c, column + 1);
      if (close < 0) bail();
      const inner = text.slice(column + 1, close);
      if (c === '"' && inner.includes('\\')) bail();
      const tail = text.slice(close + 1);
      if (tail !== '' && !/^ +#/.test(tail)) bail();
      return inner;
    }
    let scalar = text.slice(column);
    const comment = scalar.search(/ #/);
    if (comment >= 0) scalar = scalar.slice(0, comment);
    scalar = scalar.trimEnd();
    if (scalar.includes(': ') || scalar.endsWith(':')) bail();
    return plainValue(scalar);
  }
}

/** A flow collection on one line. */
class Flow {
  constructor(private readonly text: string, private pos: number, private readonly lineStart: number, private readonly positions?: Positions) {}

  private spaces(): void {
    while (this.text[this.pos] === ' ') this.pos++;
  }

  end(): void {
    const before = this.pos;
    this.spaces();
    // Nothing after the collection but a comment, separated from it by a space.
    if (this.pos < this.text.length && (this.text[this.pos] !== '#' || this.pos === before)) bail();
  }

  collection(depth: number): unknown {
    if (depth >= MAX_DEPTH) bail();
    const open = this.text[this.pos];
    this.pos++;
    const close = open === '[' ? ']' : '}';
    const value: unknown[] | Record<string, unknown> = open === '[' ? [] : {};
    const items: number[] | undefined = this.positions && open === '[' ? [] : undefined;
    const where: EntryPositions | undefined = this.positions && open === '{' ? { keys: [], at: [] } : undefined;
    this.spaces();
    if (this.text[this.pos] === close) {
      this.pos++;
    } else {
      for (;;) {
        this.spaces();
        const at = this.lineStart + this.pos;
        if (open === '{') {
          const map = value as Record<string, unknown>;
          FLOW_KEY.lastIndex = this.pos;
          const key = FLOW_KEY.exec(this.text)?.[0];
          if (!key || RESERVED_KEY.test(key) || key === '__proto__' || Object.hasOwn(map, key)) bail();
          this.pos += key!.length;
          if (this.text[this.pos] !== ':' || this.text[this.pos + 1] !== ' ') bail();
          this.pos += 1;
          this.spaces();
          const valueAt = this.lineStart + this.pos;
          map[key!] = this.item(depth + 1);
          where?.keys.push(key!);
          where?.at.push(at, valueAt);
        } else {
          (value as unknown[]).push(this.item(depth + 1));
          items?.push(at);
        }
        this.spaces();
        const c = this.text[this.pos];
        this.pos++;
        if (c === close) break;
        if (c !== ',') bail();
      }
    }
    const recorded = items ?? where;
    if (recorded) this.positions!.set(value, recorded);
    return value;
  }

  private item(depth: number): unknown {
    const c = this.text[this.pos];
    if (c === '[' || c === '{') return this.collection(depth);
    if (c === '"' || c === "'") {
      const close = this.text.indexOf(c, this.pos + 1);
      if (close < 0) bail();
      const inner = this.text.slice(this.pos + 1, close);
      if (c === '"' && inner.includes('\\')) bail();
      this.pos = close + 1;
      return inner;
    }
    FLOW_PLAIN.lastIndex = this.pos;
    const scalar = FLOW_PLAIN.exec(this.text)![0];
    this.pos += scalar.length;
    const trimmed = scalar.trimEnd();
    if (trimmed.includes(':') || trimmed.includes('#')) bail();
    return plainValue(trimmed);
  }
}

/** The value of a plain inventory, or where it stops being plain: then the yaml package must read it. */
export function readPlainYaml(text: string): Parsed | { ok: false; declinedAt: number } {
  let reader: Reader | undefined;
  try {
    reader = new Reader(text);
    const { value, start } = reader.value();
    if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, declinedAt: start };
    let located: Located | undefined;
    return { ok: true, value, locations: () => (located ??= locatePlainYaml(text)) };
  } catch (error) {
    if (error instanceof Bail) return { ok: false, declinedAt: reader ? reader.here() : Math.max(0, text.search(NOT_PLAIN)) };
    throw error;
  }
}

/** The same reading with every position recorded (of a text readPlainYaml took: it cannot bail). */
function locatePlainYaml(text: string): Located {
  const positions: Positions = new Map();
  const lines = new LineCounter();
  const { value, start } = new Reader(text, positions, lines).value();
  return { value, start, positions, lines };
}
