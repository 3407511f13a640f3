/**
 * Loads an inventory file: YAML with line numbers, the zod schema, cross-references. Returns every
 * problem at once, each with its path in the document and its line.
 */
import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { $ZodIssue } from 'zod/v4/core';
import { inventorySchema, type Inventory } from './schema';
import { crossChecks, formatPath } from './checks';

export interface InventoryProblem {
  path: string;
  line?: number;
  column?: number;
  message: string;
}

export type LoadResult =
  | { ok: true; inventory: Inventory; file: string }
  | { ok: false; problems: InventoryProblem[]; file: string };

export class InventoryError extends Error {
  constructor(readonly file: string, readonly problems: InventoryProblem[]) {
    super(`${file}: ${problems.length} problem(s)\n${problems.map((p) => formatProblem(file, p)).join('\n')}`);
    this.name = 'InventoryError';
  }
}

export function formatProblem(file: string, problem: InventoryProblem): string {
  const where = problem.line ? `${file}:${problem.line}${problem.column ? `:${problem.column}` : ''}` : file;
  return `${where}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
}

function locate(doc: Document, counter: LineCounter, path: (string | number)[]): { line?: number; column?: number } {
  // Point at the deepest node that exists on the path: the key itself when it is unknown.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const { line, col } = counter.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return {};
}

function locateKey(doc: Document, counter: LineCounter, path: (string | number)[], key: string): { line?: number; column?: number } {
  const parent = doc.getIn(path, true) as { items?: { key: unknown }[] } | undefined;
  const pair = parent?.items?.find((item) => isNode(item.key) && (item.key as { value?: unknown }).value === key);
  if (pair && isNode(pair.key) && pair.key.range) {
    const { line, col } = counter.linePos(pair.key.range[0]);
    return { line, column: col };
  }
  return locate(doc, counter, path);
}

function fromZodIssue(doc: Document, counter: LineCounter, issue: $ZodIssue): InventoryProblem[] {
  const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: formatPath([...path, key]),
      ...locateKey(doc, counter, path, key),
      message: `unknown key '${key}' (a misspelt setting would otherwise be ignored)`,
    }));
  }
  return [{ path: formatPath(path), ...locate(doc, counter, path), message: issue.message }];
}

export function parseInventory(text: string, file = '<inventory>'): LoadResult {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      file,
      problems: doc.errors.map((e) => {
        const { line, col } = counter.linePos(e.pos[0]);
        return { path: '', line, column: col, message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  const raw = doc.toJS();
  const parsed = inventorySchema.safeParse(raw, {
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined),
  });
  const problems = parsed.success ? [] : parsed.error.issues.flatMap((i) => fromZodIssue(doc, counter, i));
  for (const finding of crossChecks(raw)) {
    problems.push({ path: formatPath(finding.path), ...locate(doc, counter, finding.path), message: finding.message });
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  if (!parsed.success || problems.length > 0) return { ok: false, file, problems };
  return { ok: true, file, inventory: parsed.data };
}

export function loadInventoryFile(file: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, file, problems: [{ path: '', message: `cannot read inventory: ${(error as Error).message}` }] };
  }
  return parseInventory(text, file);
}

/** Loads and throws an InventoryError listing every problem: for commands that cannot go on without it. */
export function requireInventory(file: string): Inventory {
  const result = loadInventoryFile(file);
  if (!result.ok) throw new InventoryError(file, result.problems);
  return result.inventory;
}
