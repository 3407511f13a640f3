/**
 * How a value an operator (or an attacker) wrote appears inside a message: quoted, with every
 * control and non-ASCII character escaped (no forged lines, no terminal escapes), and cut to a
 * bounded length so that no message grows with the input.
 */
const MAX_SHOWN = 60;

/** A text cut to `max` characters, saying how long it was. */
export function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

/** One character as `\uXXXX`. */
export const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

export function shown(value: unknown, max = MAX_SHOWN): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(bounded(text, max)).replace(/[\u007f-\uffff]/g, (c) => (c === '…' ? c : unicodeEscape(c)));
}

/** A list of names in a message: the first few, then how many more. */
export function shownList(values: readonly string[], max = 5): string {
  if (values.length === 0) return 'none';
  const head = values.slice(0, max).map((v) => shown(v)).join(', ');
  return values.length > max ? `${head} and ${values.length - max} more` : head;
}
