/**
 * Loads an inventory file: read (inventory/read.ts: a regular file, bounded, UTF-8), YAML with
 * positions (inventory/yaml.ts: bounded nesting and aliases), the zod schema, cross-references.
 * Returns the problems at once, each with its path in the document and its line: the first
 * MAX_PROBLEMS by line, and how many more there are.
 */
import type { $ZodIssue } from 'zod/v4/core';
import { shown } from '../core/show';
import { inventorySchema, type Inventory } from './schema';
import { crossChecks, formatPath } from './checks';
import { readInventoryFile } from './read';
import { locate, parseYaml, type Parsed } from './yaml';
import { boundProblem, formatProblem, formatSummary, MAX_PROBLEMS, type InventoryProblem } from './problems';

export { formatProblem, formatSummary, type InventoryProblem } from './problems';

/** The exit code of a command given an inventory with problems: nothing was started. */
export const EXIT_INVALID = 2;

export type LoadResult =
  | { ok: true; inventory: Inventory; file: string }
  | { ok: false; problems: InventoryProblem[]; moreProblems: number; file: string };

/** An inventory with problems, thrown by requireInventory: the CLI prints its lines and exits 2. */
export class InventoryError extends Error {
  readonly exitCode = EXIT_INVALID;
  constructor(readonly file: string, readonly problems: InventoryProblem[], readonly moreProblems = 0) {
    super([...problems.map((p) => formatProblem(file, p)), formatSummary(file, problems.length, moreProblems)].join('\n'));
    this.name = 'InventoryError';
  }
}

interface Found {
  path: readonly PropertyKey[];
  /** Point at the key itself (an unknown key) rather than its value. */
  key?: boolean;
  message: string;
}

function fromZodIssue(issue: $ZodIssue): Found[] {
  const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: [...path, key],
      key: true,
      message: `unknown key ${shown(key)} (a misspelt setting would otherwise be ignored)`,
    }));
  }
  if (issue.code === 'invalid_key') {
    // A map key that fails its grammar (a credential or property name): the grammar's own message, at the key.
    const inner = issue.issues[0]?.message;
    return [{ path, key: true, message: inner ? `key: ${inner}` : 'this key is not allowed here' }];
  }
  return [{ path, message: issue.message }];
}

/** The first MAX_PROBLEMS problems by position in the file, with their lines; the rest counted. */
function report(parsed: Parsed, found: Found[], file: string): LoadResult {
  const located = parsed.locations();
  const placed = found.map((f, i) => ({ f, i, offset: locate(located, f.path, f.key) }));
  placed.sort((a, b) => a.offset - b.offset || a.i - b.i);
  const problems = placed.slice(0, MAX_PROBLEMS).map(({ f, offset }) => {
    const { line, col } = located.lines.linePos(offset);
    return boundProblem({ path: formatPath(f.path), ...(line > 0 ? { line, column: col } : {}), message: f.message });
  });
  return { ok: false, file, problems, moreProblems: placed.length - problems.length };
}

function failed(file: string, problems: InventoryProblem[]): LoadResult {
  return { ok: false, file, problems: problems.slice(0, MAX_PROBLEMS).map(boundProblem), moreProblems: Math.max(0, problems.length - MAX_PROBLEMS) };
}

function check(text: string, file: string): LoadResult {
  const parsed = parseYaml(text);
  if (!parsed.ok) return failed(file, parsed.problems);
  const raw = parsed.value;
  const result = inventorySchema.safeParse(raw, {
    // A missing key, whatever its schema (a type, an enum such as os): its own words otherwise.
    error: (issue) => (issue.input === undefined ? 'required' : undefined),
  });
  const found: Found[] = result.success ? [] : result.error.issues.flatMap(fromZodIssue);
  for (const finding of crossChecks(raw)) found.push({ path: finding.path, message: finding.message });
  if (!result.success || found.length > 0) return report(parsed, found, file);
  return { ok: true, file, inventory: result.data };
}

export function parseInventory(text: string, file = '<inventory>'): LoadResult {
  try {
    return check(text, file);
  } catch (error) {
    // A stack overflow or a string too long for the runtime, whatever the checks above missed:
    // still the inventory's problem (exit 2), not a crash.
    if (error instanceof RangeError) {
      return failed(file, [{ path: '', message: `the inventory is too deeply nested or too large to check (${error.message})` }]);
    }
    throw error;
  }
}

export function loadInventoryFile(file: string): LoadResult {
  const read = readInventoryFile(file);
  if (!read.ok) return failed(file, [{ path: '', ...(read.line ? { line: read.line, column: read.column } : {}), message: read.message }]);
  return parseInventory(read.text, file);
}

/** Loads and throws an InventoryError listing the problems: for commands that cannot go on without it. */
export function requireInventory(file: string): Inventory {
  const result = loadInventoryFile(file);
  if (!result.ok) throw new InventoryError(file, result.problems, result.moreProblems);
  return result.inventory;
}
