/**
 * Reading the parsed document defensively, for the checks that span sections: they run alongside
 * the schema's, on a document that may be wrong anywhere, so that every mistake is reported at once.
 */
import { shown } from '../../core/show';

export interface Finding {
  path: (string | number)[];
  message: string;
}

export type Raw = Record<string, unknown>;
export type Path = (string | number)[];

export const obj = (v: unknown): Raw | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const poolOf = (dataset: string): string => dataset.split('/')[0] ?? '';

export interface VmEntry { path: Path; vm: Raw; name?: string; pool?: string; host: Raw }

export function storageVms(root: Raw): VmEntry[] {
  return arr(root.hosts).flatMap((h, i) => {
    const host = obj(h);
    const vm = obj(host?.storageVm);
    return host && vm ? [{ path: ['hosts', i, 'storageVm'], vm, host, name: str(vm.name), pool: str(obj(vm.pool)?.name) }] : [];
  });
}

/** `hosts[1].storageVm.name`; a key that is not a plain word is quoted, so that `a.b` or `x[0]` cannot pass for nesting. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const text = String(key);
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(text)) return `${out}[${JSON.stringify(text)}]`;
    return out ? `${out}.${text}` : text;
  }, '');
}

/**
 * The second and later of equal values. `ignoreCase` for names DNS and vSphere do not tell apart:
 * `uss1` and `USS1` are one host to them.
 */
export function duplicates(entries: { value?: string; path: Path }[], what: string, ignoreCase = false): Finding[] {
  const seen = new Map<string, { value: string; path: Path }>();
  const findings: Finding[] = [];
  for (const { value, path } of entries) {
    if (value === undefined) continue;
    const key = ignoreCase ? value.toLowerCase() : value;
    const first = seen.get(key);
    if (!first) seen.set(key, { value, path });
    else if (first.value === value) findings.push({ path, message: `duplicate ${what} ${shown(value)} (first at ${formatPath(first.path)})` });
    else findings.push({ path, message: `${what} ${shown(value)} differs from ${shown(first.value)} (at ${formatPath(first.path)}) only in case, which DNS and vSphere do not tell apart` });
  }
  return findings;
}
