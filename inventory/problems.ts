/**
 * Problems found in an inventory, and how they are printed: one line each, whatever the file
 * holds, and a bounded number of bounded lines, however large the file.
 */
import { bounded, unicodeEscape } from '../core/show';

export interface InventoryProblem {
  path: string;
  line?: number;
  column?: number;
  message: string;
}

/** At most this many problems are reported (the first, by line); then "and N more problems". */
export const MAX_PROBLEMS = 100;
/** A message or path longer than this is cut (with its length shown): none grows with the inventory. */
export const MAX_MESSAGE_CHARS = 400;

// C0 and C1 controls, DEL, the line and paragraph separators, bidi marks, embeddings, overrides
// and isolates, the BOM / zero-width no-break space: anything that can break, hide or reorder a line.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The text with every character that could forge or disguise a line written as \n, \r, \t or \uXXXX. */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, (c) => NAMED[c] ?? unicodeEscape(c));
}

const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * JSON text (from JSON.stringify, which escapes C0 controls itself) with DEL, C1 controls, line
 * separators and bidi controls escaped too: the same value, and nothing that reorders a terminal line.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE_IN_JSON, unicodeEscape);
}

/** One problem as one line of text: file:line:column: path: message, every part escaped. */
export function formatProblem(file: string, problem: InventoryProblem): string {
  const where = problem.line ? `${file}:${problem.line}${problem.column ? `:${problem.column}` : ''}` : file;
  const line = `${where}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
  return escapeText(line);
}

/** The line after the problems: how many there were, and how many are not shown. */
export function formatSummary(file: string, shown: number, more: number): string {
  const count = shown + more;
  const tail = more > 0 ? `; the first ${shown} are shown, and ${more} more problem${more === 1 ? '' : 's'}` : '';
  return escapeText(`${count} problem${count === 1 ? '' : 's'} in ${file}${tail}; nothing was started`);
}

/** Every problem's path and message bounded, so that a caller can print or serialise them as they are. */
export function boundProblem(problem: InventoryProblem): InventoryProblem {
  return { ...problem, path: bounded(problem.path, 200), message: bounded(problem.message, MAX_MESSAGE_CHARS) };
}
