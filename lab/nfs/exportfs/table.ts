/** The export table (etab, what zfs-fuse reads) and exports(5) files: entries of path, client and options. */
import { parseClient } from './clients';
import { DEFAULT_OPTIONS, formatOptions, parseOptions, type ExportOptions } from './options';
import { ETAB, ExportfsError } from './paths';

export interface ExportEntry {
  path: string;
  /** As given (zfs-fuse unexports by the client text it reads back from etab). */
  client: string;
  options: ExportOptions;
}

const unescapePath = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
export const escapePath = (s: string): string => s.replace(/[\s\\#]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);

export function checkPath(p: string): string {
  if (!p.startsWith('/') || /["\n\0]/.test(p)) throw new ExportfsError(`bad export path "${p}"`);
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

export function parseEtab(text: string): ExportEntry[] {
  return text.split('\n').filter((l) => l.trim()).map((line) => {
    const m = /^(\S+)\t([^(\s]+)\(([^)]*)\)$/.exec(line);
    if (!m) throw new ExportfsError(`${ETAB}: cannot read line "${line}"`);
    return { path: unescapePath(m[1]!), client: m[2]!, options: parseOptions(m[3]!) };
  });
}

export const formatEtab = (entries: ExportEntry[]): string =>
  entries.map((e) => `${escapePath(e.path)}\t${e.client}(${formatOptions(e.options)})\n`).join('');

/** exports(5): `PATH [-DEFAULTS] CLIENT[(OPTS)] ...`, # comments, \ continuations, "quoted paths". */
export function parseExports(text: string, file: string): ExportEntry[] {
  const entries: ExportEntry[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const m = /^("([^"]*)"|\S+)\s*(.*)$/.exec(line)!;
    const exportPath = checkPath(unescapePath(m[2] ?? m[1]!));
    let defaults: ExportOptions = { ...DEFAULT_OPTIONS };
    const words = m[3]!.split(/\s+/).filter(Boolean);
    if (words[0]?.startsWith('-')) defaults = parseOptions(words.shift()!.slice(1));
    if (words.length === 0) throw new ExportfsError(`${file}:${i + 1}: no client for ${exportPath} (the lab does not export to everyone by default)`);
    for (const word of words) {
      const c = /^([^(]*)(?:\(([^)]*)\))?$/.exec(word);
      if (!c) throw new ExportfsError(`${file}:${i + 1}: cannot read "${word}"`);
      const client = c[1] || '*';
      parseClient(client);
      entries.push({ path: exportPath, client, options: parseOptions(c[2] ?? '', defaults) });
    }
  });
  return entries;
}
