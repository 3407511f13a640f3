/**
 * Debian ifupdown's files as data: /etc/network/interfaces and what it sources. Only stanzas of
 * files ifupdown actually reads count (a file in interfaces.d that nothing sources is ignored by
 * ifupdown, so by us too).
 */
import { maskToPrefix, parseCidr, type Cidr } from './ipv4';
import type { FileText } from './facts';

export const INTERFACES_FILE = '/etc/network/interfaces';
export const INTERFACES_DIR = '/etc/network/interfaces.d';

export interface IfupdownStanza {
  file: string;
  /** Line indexes (0-based) of the `iface` line and of its last option line. */
  first: number;
  last: number;
  device: string;
  family: string;
  method: string;
  address?: Cidr;
  gateway?: string;
  /** `up` and `post-up` commands, in order. */
  up: string[];
}

/** An `auto` or `allow-*` line. */
export interface IfupdownAuto {
  file: string;
  line: number;
  keyword: string;
  devices: string[];
}

export interface IfupdownConfig {
  /** /etc/network/interfaces and the files of interfaces.d that were read. */
  files: FileText[];
  /** The files ifupdown reads (the main file and those its source lines name), in that order. */
  active: string[];
  stanzas: IfupdownStanza[];
  autos: IfupdownAuto[];
  /** The glob and directory patterns of the active `source` / `source-directory` lines. */
  sources: { keyword: 'source' | 'source-directory'; pattern: string }[];
}

const STANZA = /^(iface|mapping|auto|allow-[\w-]+|source|source-directory|no-auto-down|no-scripts|rename|template)\b/;

export const splitLines = (content: string): string[] => {
  const lines = content.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

const absolute = (path: string) => (path.startsWith('/') ? path : `/etc/network/${path}`);

/** Whether ifupdown reads `path` through one of these source lines. */
export function isSourced(path: string, sources: IfupdownConfig['sources']): boolean {
  const dir = path.slice(0, path.lastIndexOf('/'));
  const base = path.slice(path.lastIndexOf('/') + 1);
  return sources.some((s) =>
    s.keyword === 'source'
      ? globToRegExp(absolute(s.pattern)).test(path)
      // source-directory reads names run-parts accepts.
      : absolute(s.pattern).replace(/\/+$/, '') === dir && /^[A-Za-z0-9_-]+$/.test(base),
  );
}

/** Logical lines (a trailing backslash joins the next) with the indexes of their first and last physical lines. */
function logicalLines(content: string): { text: string; index: number; end: number }[] {
  const out: { text: string; index: number; end: number }[] = [];
  const lines = splitLines(content);
  for (let i = 0; i < lines.length; i++) {
    const index = i;
    let text = lines[i]!;
    while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + lines[++i]!;
    out.push({ text: text.trim(), index, end: i });
  }
  return out;
}

/** `address` with a prefix (`/24`), else with `netmask` (dotted or a length); a bare address without netmask is a /32. */
function stanzaAddress(address: string, netmask: string | undefined): Cidr | undefined {
  if (address.includes('/')) return parseCidr(address);
  const prefix = netmask === undefined ? 32 : /^\d{1,2}$/.test(netmask) ? Number(netmask) : maskToPrefix(netmask);
  return prefix === undefined ? undefined : parseCidr(`${address}/${prefix}`);
}

function parseFile(f: FileText, into: IfupdownConfig): void {
  let current: IfupdownStanza | undefined;
  let address: string | undefined;
  let netmask: string | undefined;
  const close = () => {
    if (current && address !== undefined) current.address = stanzaAddress(address, netmask);
    current = undefined;
    address = undefined;
    netmask = undefined;
  };
  for (const { text, index, end } of logicalLines(f.content)) {
    if (text === '' || text.startsWith('#')) continue;
    const words = text.split(/\s+/);
    const keyword = words[0]!;
    if (STANZA.test(keyword)) {
      close();
      if (keyword === 'iface' && words.length >= 4) {
        current = { file: f.path, first: index, last: index, device: words[1]!, family: words[2]!, method: words[3]!, up: [] };
        into.stanzas.push(current);
      } else if (keyword === 'auto' || keyword.startsWith('allow-')) {
        into.autos.push({ file: f.path, line: index, keyword, devices: words.slice(1) });
      } else if ((keyword === 'source' || keyword === 'source-directory') && words[1]) {
        into.sources.push({ keyword, pattern: words[1] });
      }
      continue;
    }
    if (!current) continue;
    current.last = end;
    const value = text.slice(keyword.length).trim();
    if (keyword === 'address') address = value;
    else if (keyword === 'netmask') netmask = value;
    else if (keyword === 'gateway') current.gateway = value;
    else if (keyword === 'up' || keyword === 'post-up') current.up.push(value);
  }
  close();
}

/**
 * The main file, then each file its `source` / `source-directory` lines make ifupdown read (from
 * `candidates`: the files of interfaces.d that the facts script printed), in that order.
 */
export function parseIfupdown(main: FileText, candidates: FileText[]): IfupdownConfig {
  const config: IfupdownConfig = { files: [main, ...candidates], active: [], stanzas: [], autos: [], sources: [] };
  if (!main.exists) return config;
  config.active.push(main.path);
  parseFile(main, config);
  // A sourced file may source more; read until nothing new comes in.
  for (let grew = true; grew; ) {
    grew = false;
    for (const f of candidates) {
      if (f.exists && !config.active.includes(f.path) && isSourced(f.path, config.sources)) {
        config.active.push(f.path);
        parseFile(f, config);
        grew = true;
      }
    }
  }
  return config;
}
