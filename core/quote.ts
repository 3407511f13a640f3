/**
 * The one place that turns arguments into POSIX shell words. Every value that reaches a remote
 * shell (dataset, host, user, path) passes through `quote`; commands are built with `shellCommand`.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quote(arg: string): string {
  if (arg.length > 0 && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('shellCommand: empty argv');
  return argv.map(quote).join(' ');
}

/**
 * A shell script that is safe to hand to a remote shell verbatim: its text comes only from
 * literal source code (the static parts of an `sh` template) and from values that went through
 * `quote`. The only way to make one is the `sh` tag below, so a raw string can never be passed
 * where a `ShellScript` is expected (see `execTrustedScript` in exec.ts).
 */
export class ShellScript {
  private constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  /** @internal used by `sh` only. */
  static fromTemplate(strings: TemplateStringsArray, values: readonly unknown[]): ShellScript {
    if (!Array.isArray(strings) || !Array.isArray((strings as { raw?: unknown }).raw)) {
      throw new TypeError('sh must be used as a tagged template: sh`cmd ${arg}`');
    }
    let text = strings[0];
    for (let i = 0; i < values.length; i++) {
      text += interpolate(values[i], i) + strings[i + 1];
    }
    return new ShellScript(text);
  }
}

function interpolateWord(v: unknown, i: number): string {
  if (v instanceof ShellScript) return v.text;
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' && Number.isFinite(v)) return quote(String(v));
  if (typeof v === 'bigint') return quote(String(v));
  throw new TypeError(`sh: interpolated value #${i} is ${v === null ? 'null' : typeof v}; expected string, number, string[] or ShellScript`);
}

function interpolate(v: unknown, i: number): string {
  if (Array.isArray(v)) return v.map((w) => interpolateWord(w, i)).join(' ');
  return interpolateWord(v, i);
}

/**
 * Tagged template for multi-command scripts (pipelines, `&&`, redirections):
 *
 *   sh`${['zfs', 'send', snap]} | ${['ssh', host, 'zfs', 'recv', '-u', target]}`
 *
 * Every interpolated string or number becomes one quoted word; an array becomes its words
 * (an argv); a nested `ShellScript` is inserted as is. The literal parts are trusted source
 * text. Note: do not interpolate the *string* returned by `shellCommand` (it would be quoted
 * again as one word) — interpolate the argv array instead.
 */
export function sh(strings: TemplateStringsArray, ...values: unknown[]): ShellScript {
  return ShellScript.fromTemplate(strings, values);
}
