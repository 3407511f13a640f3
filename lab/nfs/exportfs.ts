/**
 * The lab's `exportfs`: what ZFS runs to share a dataset over NFS, standing in for nfs-utils'
 * exportfs on lab hosts, where nfs-ganesha (not a kernel NFS server) serves the exports.
 *
 * It keeps the export table where nfs-utils keeps it, /var/lib/nfs/etab (zfs-fuse reads that file
 * to learn what is shared), with nfs-utils' semantics for the invocations ZFS makes (see
 * lab/nfs/README.md): `-o OPTS CLIENT:PATH` exports (replacing that client's entry for the path),
 * `-u CLIENT:PATH` unexports, `-a`/`-r` export what /etc/exports and /etc/exports.d/*.exports list
 * (`-r` also drops the rest), no arguments list. Then it renders the table into ganesha's export
 * config, one EXPORT per path with a CLIENT block per client, and reloads ganesha (SIGHUP) when it
 * runs, checking ganesha's log for the reload's result.
 *
 * An option, client or path it does not model is refused (message on stderr, exit 1, table
 * unchanged): it never exports more than asked. Host names are resolved in the host's /etc/hosts
 * only, when rendering. It runs as a standalone script (lab/bin/exportfs.js, transpiled from this
 * file), so it imports nothing but Node's own modules.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Paths inside a lab host. */
export const ETAB = '/var/lib/nfs/etab';
export const ETAB_LOCK = '/var/lib/nfs/etab.lock';
export const EXPORT_IDS = '/var/lib/nfs/ganesha-export-ids.json';
export const GANESHA_EXPORTS = '/var/lib/nfs/ganesha-exports.conf';
export const GANESHA_PID = '/run/ganesha/ganesha.pid';
export const GANESHA_LOG = '/var/log/ganesha/ganesha.log';
export const GANESHA_EXE = '/usr/bin/ganesha.nfsd';
const EXPORTS_FILE = '/etc/exports';
const EXPORTS_DIR = '/etc/exports.d';
const HOSTS_FILE = '/etc/hosts';

export class ExportfsError extends Error {}

// ---------------------------------------------------------------------------------------------
// Options

export interface ExportOptions {
  rw: boolean;
  rootSquash: boolean;
  allSquash: boolean;
  anonuid: number;
  anongid: number;
  /** Requests only from ports below 1024 (ganesha's PrivilegedPort). */
  secure: boolean;
  wdelay: boolean;
  hide: boolean;
  crossmnt: boolean;
  subtreeCheck: boolean;
  fsid?: string;
  /** Export only while the path (or this path, when not empty) is a mount point. */
  mountpoint?: string;
}

export const DEFAULT_OPTIONS: Readonly<ExportOptions> = {
  rw: false, rootSquash: true, allSquash: false, anonuid: 65534, anongid: 65534, secure: true,
  wdelay: true, hide: true, crossmnt: false, subtreeCheck: false,
};

/**
 * nfs-utils' option words this stand-in models. Accepted without effect on ganesha (which has no
 * such setting, and exports no more for their absence): sync, (no_)wdelay, (no)hide, crossmnt,
 * (no_)subtree_check, fsid=, sec=sys. Every other word is refused, async and nosuid included.
 */
const FLAGS: Record<string, (o: ExportOptions) => void> = {
  rw: (o) => { o.rw = true; },
  ro: (o) => { o.rw = false; },
  root_squash: (o) => { o.rootSquash = true; },
  no_root_squash: (o) => { o.rootSquash = false; },
  all_squash: (o) => { o.allSquash = true; },
  no_all_squash: (o) => { o.allSquash = false; },
  secure: (o) => { o.secure = true; },
  insecure: (o) => { o.secure = false; },
  sync: () => undefined,
  wdelay: (o) => { o.wdelay = true; },
  no_wdelay: (o) => { o.wdelay = false; },
  hide: (o) => { o.hide = true; },
  nohide: (o) => { o.hide = false; },
  crossmnt: (o) => { o.crossmnt = true; },
  subtree_check: (o) => { o.subtreeCheck = true; },
  no_subtree_check: (o) => { o.subtreeCheck = false; },
  mountpoint: (o) => { o.mountpoint = ''; },
  mp: (o) => { o.mountpoint = ''; },
};

const ID = /^\d{1,10}$/;
const VALUED: Record<string, (o: ExportOptions, value: string) => void> = {
  anonuid: (o, v) => { o.anonuid = idValue('anonuid', v); },
  anongid: (o, v) => { o.anongid = idValue('anongid', v); },
  fsid: (o, v) => {
    if (!/^(root|\d+|[0-9a-fA-F-]{8,})$/.test(v)) throw new ExportfsError(`bad fsid "${v}"`);
    o.fsid = v;
  },
  mountpoint: (o, v) => { o.mountpoint = v; },
  mp: (o, v) => { o.mountpoint = v; },
  sec: (_o, v) => {
    if (v !== 'sys') throw new ExportfsError(`sec=${v} is not served by the lab's NFS server (only sec=sys)`);
  },
};

function idValue(name: string, value: string): number {
  if (!ID.test(value) || Number(value) > 0xffffffff) throw new ExportfsError(`bad ${name} "${value}"`);
  return Number(value);
}

/** Applies an option list (rw,no_root_squash,...) on top of base. */
export function parseOptions(text: string, base: Readonly<ExportOptions> = DEFAULT_OPTIONS): ExportOptions {
  const o: ExportOptions = { ...base };
  for (const word of text.split(',')) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    if (eq < 0 && FLAGS[key]) FLAGS[key](o);
    else if (eq >= 0 && VALUED[key]) VALUED[key](o, word.slice(eq + 1));
    else throw new ExportfsError(`unknown or unsupported export option "${word}" (the lab's exportfs models: ${[...Object.keys(FLAGS), ...Object.keys(VALUED).map((k) => `${k}=`)].join(' ')})`);
  }
  return o;
}

/** The options as etab lists them (nfs-utils' order, sec=sys always). */
export function formatOptions(o: ExportOptions): string {
  return [
    o.rw ? 'rw' : 'ro',
    'sync',
    o.wdelay ? 'wdelay' : 'no_wdelay',
    o.hide ? 'hide' : 'nohide',
    ...(o.crossmnt ? ['crossmnt'] : []),
    o.subtreeCheck ? 'subtree_check' : 'no_subtree_check',
    ...(o.fsid !== undefined ? [`fsid=${o.fsid}`] : []),
    ...(o.mountpoint !== undefined ? [o.mountpoint ? `mountpoint=${o.mountpoint}` : 'mountpoint'] : []),
    ...(o.anonuid !== 65534 ? [`anonuid=${o.anonuid}`] : []),
    ...(o.anongid !== 65534 ? [`anongid=${o.anongid}`] : []),
    'sec=sys',
    o.secure ? 'secure' : 'insecure',
    o.rootSquash ? 'root_squash' : 'no_root_squash',
    o.allSquash ? 'all_squash' : 'no_all_squash',
  ].join(',');
}

// ---------------------------------------------------------------------------------------------
// Clients

export type Client =
  | { kind: 'any' }
  | { kind: 'address'; address: string }
  | { kind: 'subnet'; network: string; prefix: number }
  | { kind: 'name'; name: string };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/;

const ipToInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** A client as exports(5) writes it; netgroups, wildcards, IPv6 and GSS names are refused. */
export function parseClient(spec: string): Client {
  if (spec === '*') return { kind: 'any' };
  if (IPV4.test(spec)) return { kind: 'address', address: spec };
  const slash = spec.indexOf('/');
  if (slash > 0 && IPV4.test(spec.slice(0, slash))) {
    const mask = spec.slice(slash + 1);
    let prefix: number;
    if (/^\d{1,2}$/.test(mask) && Number(mask) <= 32) prefix = Number(mask);
    else if (IPV4.test(mask) && /^1*0*$/.test(ipToInt(mask).toString(2).padStart(32, '0'))) prefix = ipToInt(mask).toString(2).replace(/0+$/, '').length;
    else throw new ExportfsError(`bad network mask in client "${spec}"`);
    const size = 2 ** (32 - prefix);
    return { kind: 'subnet', network: intToIp(Math.floor(ipToInt(spec.slice(0, slash)) / size) * size), prefix };
  }
  if (HOST_NAME.test(spec) && !/^[\d.]+$/.test(spec)) return { kind: 'name', name: spec.replace(/\.$/, '') };
  throw new ExportfsError(`client "${spec}" is not served by the lab's NFS server (addresses, IPv4 networks, host names from /etc/hosts and * only; no @netgroups, wildcards or IPv6)`);
}

/** nfs-utils' order of client types: hosts, then networks, then everyone. */
const clientRank = (c: Client): number => (c.kind === 'any' ? 2 : c.kind === 'subnet' ? 1 : 0);

/** Addresses of a name in hosts(5) text (IPv4 only), in file order. */
export function addressesIn(hostsText: string, name: string): string[] {
  const found: string[] = [];
  for (const line of hostsText.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (address && IPV4.test(address) && names.some((n) => n.toLowerCase() === name.toLowerCase()) && !found.includes(address)) found.push(address);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The table (etab) and exports(5) files

export interface ExportEntry {
  path: string;
  /** As given (zfs-fuse unexports by the client text it reads back from etab). */
  client: string;
  options: ExportOptions;
}

const unescapePath = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
const escapePath = (s: string): string => s.replace(/[\s\\#]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);

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

// ---------------------------------------------------------------------------------------------
// ganesha's export config

export interface RenderContext {
  /** Export_Id per path; new paths get the next free id (ids are never reused). */
  ids: { next: number; byPath: Record<string, number> };
  hostsText: string;
  isMountPoint: (p: string) => boolean;
}

function clientAddresses(spec: string, hostsText: string): string[] {
  const c = parseClient(spec);
  if (c.kind === 'any') return ['*'];
  if (c.kind === 'address') return [c.address];
  if (c.kind === 'subnet') return [`${c.network}/${c.prefix}`];
  const found = addressesIn(hostsText, c.name);
  if (found.length === 0) throw new ExportfsError(`cannot resolve client "${c.name}": not in ${HOSTS_FILE} (the lab's exportfs resolves names there only)`);
  return found;
}

function clientBlock(e: ExportEntry, hostsText: string): string[] {
  const o = e.options;
  const squash = o.allSquash ? 'All_Squash' : o.rootSquash ? 'Root_Squash' : 'No_Root_Squash';
  return [
    '  CLIENT {',
    `    # ${e.client}(${formatOptions(o)})`,
    // Unquoted: a quoted client is a string to ganesha, which then drops the whole export.
    `    Clients = ${clientAddresses(e.client, hostsText).join(', ')};`,
    `    Access_Type = ${o.rw ? 'RW' : 'RO'};`,
    `    Squash = ${squash};`,
    `    PrivilegedPort = ${o.secure};`,
    ...(o.anonuid !== 65534 ? [`    Anonymous_Uid = ${o.anonuid};`] : []),
    ...(o.anongid !== 65534 ? [`    Anonymous_Gid = ${o.anongid};`] : []),
    '  }',
  ];
}

/** One EXPORT per path (NFSv3 and v4, FSAL VFS, Pseudo = Path), its clients in nfs-utils' order. */
export function renderGanesha(entries: ExportEntry[], ctx: RenderContext): string {
  const byPath = new Map<string, ExportEntry[]>();
  for (const e of entries) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e]);
  const out = ['# Written by the lab\'s exportfs from /var/lib/nfs/etab: edits are overwritten.', ''];
  for (const [p, all] of [...byPath].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // Option mountpoint: that client's entry counts only while the path is a mount point.
    const list = all.filter((e) => e.options.mountpoint === undefined || ctx.isMountPoint(e.options.mountpoint || p));
    if (list.length === 0) {
      out.push(`# ${p}: not exported, not a mount point (option mountpoint)`, '');
      continue;
    }
    if (!(p in ctx.ids.byPath)) ctx.ids.byPath[p] = ctx.ids.next++;
    if (ctx.ids.byPath[p]! > 65535) throw new ExportfsError('out of ganesha Export_Ids (65535): restart the host\'s NFS server');
    const ordered = [...list].sort((a, b) => clientRank(parseClient(a.client)) - clientRank(parseClient(b.client)));
    out.push(
      'EXPORT {',
      `  Export_Id = ${ctx.ids.byPath[p]};`,
      `  Path = "${p}";`,
      `  Pseudo = "${p}";`,
      '  Protocols = 3, 4;',
      '  Access_Type = None;',
      '  FSAL { Name = VFS; }',
      ...ordered.flatMap((e) => clientBlock(e, ctx.hostsText)),
      '}',
      '',
    );
  }
  for (const p of Object.keys(ctx.ids.byPath)) if (!byPath.has(p)) delete ctx.ids.byPath[p];
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// The command

export interface Io {
  /** Prefix of every host path ('/' on a lab host; a scratch dir in tests). */
  root: string;
  out: (text: string) => void;
  err: (text: string) => void;
}

interface Flags {
  all: boolean; reexport: boolean; unexport: boolean; ignore: boolean; verbose: boolean;
  exportFormat: boolean; flush: boolean; options?: string; targets: string[];
}

function parseArgs(argv: string[]): Flags {
  const f: Flags = { all: false, reexport: false, unexport: false, ignore: false, verbose: false, exportFormat: false, flush: false, targets: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      f.targets.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j]!;
      if (c === 'o' || c === 'd') {
        const value = arg.slice(j + 1) || argv[++i];
        if (value === undefined) throw new ExportfsError(`option -${c} needs a value`);
        if (c === 'o') f.options = value;
        break;
      }
      if (c === 'a') f.all = true;
      else if (c === 'r') f.reexport = f.all = true;
      else if (c === 'u') f.unexport = true;
      else if (c === 'i') f.ignore = true;
      else if (c === 'v') f.verbose = true;
      else if (c === 's') f.exportFormat = true;
      else if (c === 'f') f.flush = true;
      else if (c !== 'L') throw new ExportfsError(`unknown option -${c}\nusage: exportfs [-adfhioruvs] [host:/path]`);
    }
  }
  if (f.targets.length > 0 && f.all) throw new ExportfsError('extra arguments are not permitted with -a or -r');
  if (f.ignore && (f.all || f.unexport)) throw new ExportfsError('-i not meaningful with -a, -r or -u');
  if (f.reexport && f.unexport) throw new ExportfsError('-r and -u are incompatible');
  return f;
}

function splitTarget(target: string): { client: string; path: string } {
  const colon = target.indexOf(':');
  if (colon < 0 || target[colon + 1] !== '/') throw new ExportfsError(`Invalid export syntax: ${target}`);
  return { client: target.slice(0, colon), path: checkPath(target.slice(colon + 1)) };
}

const sameEntry = (a: { client: string; path: string }, b: { client: string; path: string }) =>
  a.path === b.path && a.client.toLowerCase() === b.client.toLowerCase();

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** exports(5) entries of /etc/exports and /etc/exports.d/*.exports (sorted, as nfs-utils reads them). */
function readExportsFiles(at: (p: string) => string): ExportEntry[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(at(EXPORTS_DIR)).filter((n) => n.endsWith('.exports') && !n.startsWith('.')).sort();
  } catch {
    /* no exports.d */
  }
  return [EXPORTS_FILE, ...names.map((n) => `${EXPORTS_DIR}/${n}`)].flatMap((f) => parseExports(readText(at(f)), f));
}

/** nfs-utils' listing: `PATH<tab>CLIENT` (-v adds the options; -s is exports(5) format). */
function dump(entries: ExportEntry[], f: Flags): string {
  return entries.map((e) => {
    const client = e.client === '*' ? (f.exportFormat ? '*' : '<world>') : e.client;
    const head = f.exportFormat ? `${escapePath(e.path)} ${client}` : e.path.length > 14 ? `${e.path}\n\t\t${client}` : `${e.path.padEnd(14)}\t${client}`;
    return f.verbose || f.exportFormat ? `${head}(${formatOptions(e.options)})\n` : `${head}\n`;
  }).join('');
}

/**
 * The new table for an invocation that changes it, with nfs-utils' semantics: -u removes entries,
 * -a adds what the files list (their options win), -r keeps nothing else, CLIENT:PATH adds or
 * replaces that entry (its options on top of the files' entry for it, unless -i). An entry keeps
 * its place in the table; a new one goes last.
 */
function newTable(f: Flags, current: ExportEntry[], files: () => ExportEntry[]): ExportEntry[] {
  if (f.unexport) {
    if (f.all) return [];
    let table = current;
    for (const target of f.targets) {
      const t = splitTarget(target);
      const left = table.filter((e) => !sameEntry(e, t));
      if (left.length === table.length) throw new ExportfsError(`Could not find '${t.client}:${t.path}' to unexport.`);
      table = left;
    }
    return table;
  }
  const listed = f.ignore ? [] : files();
  const table = f.reexport ? [] : [...current];
  const put = (e: ExportEntry) => {
    const i = table.findIndex((x) => sameEntry(x, e));
    if (i >= 0) table[i] = e;
    else table.push(e);
  };
  if (f.all) for (const e of listed) put(e);
  for (const target of f.targets) {
    const t = splitTarget(target);
    parseClient(t.client);
    const base = listed.find((e) => sameEntry(e, t))?.options ?? DEFAULT_OPTIONS;
    put({ ...t, options: parseOptions(f.options ?? '', base) });
  }
  return table;
}

/** Runs one exportfs invocation; returns its exit code. */
export function exportfs(argv: string[], io: Io): number {
  const at = (p: string) => path.join(io.root, p);
  try {
    const f = parseArgs(argv);
    if (f.targets.length === 0 && !f.all) {
      if (!f.flush) io.out(dump(parseEtab(readText(at(ETAB))), f));
      return 0;
    }
    withLock(at(ETAB_LOCK), () => {
      const table = newTable(f, parseEtab(readText(at(ETAB))), () => readExportsFiles(at));
      for (const e of table) if (!isDirectory(at(e.path))) throw new ExportfsError(`Failed to stat ${e.path}: not a directory`);
      const ids = readIds(at(EXPORT_IDS));
      const config = renderGanesha(table, { ids, hostsText: readText(at(HOSTS_FILE)), isMountPoint: (p) => isMountPoint(at(p)) });
      const before = [GANESHA_EXPORTS, EXPORT_IDS, ETAB].map((p) => [at(p), readText(at(p))] as const);
      writeAtomic(at(GANESHA_EXPORTS), config);
      writeAtomic(at(EXPORT_IDS), `${JSON.stringify(ids)}\n`);
      writeAtomic(at(ETAB), formatEtab(table));
      try {
        reloadGanesha(at);
      } catch (error) {
        // Back to the exports ganesha accepted last time, so the table says what is served.
        for (const [file, text] of before) writeAtomic(file, text);
        try {
          reloadGanesha(at);
        } catch {
          /* the first error is the one to report */
        }
        throw error;
      }
      if (f.verbose) for (const e of table) io.out(`exporting ${e.client}:${e.path}\n`);
    });
    return 0;
  } catch (error) {
    if (!(error instanceof ExportfsError)) throw error;
    io.err(`exportfs: ${error.message}\n`);
    return 1;
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isMountPoint(p: string): boolean {
  try {
    return p === path.dirname(p) || fs.statSync(p).dev !== fs.statSync(path.dirname(p)).dev;
  } catch {
    return false;
  }
}

function readIds(file: string): RenderContext['ids'] {
  const text = readText(file);
  return text ? (JSON.parse(text) as RenderContext['ids']) : { next: 1, byPath: {} };
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** One exportfs at a time per host (zfs share -a and a concurrent zfs set would race on etab). */
function withLock(lock: string, fn: () => void): void {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readText(lock).trim());
      if (holder > 0 && !processAlive(holder)) fs.rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new ExportfsError(`${ETAB_LOCK} is held by pid ${holder}`);
      else pause(10);
    }
  }
  try {
    fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGHUP makes ganesha re-read its exports; the log then says "Reread exports complete", and any
 * config error follows it at once (or replaces it, when the file does not parse). No ganesha
 * running: nothing to do, it reads the config when it starts.
 */
function reloadGanesha(at: (p: string) => string): void {
  const pid = Number(readText(at(GANESHA_PID)).trim());
  if (!(pid > 0) || !processAlive(pid)) return;
  try {
    // This host's ganesha: a pid file left behind may name another host's by now.
    if (fs.readlinkSync(`/proc/${pid}/exe`) !== GANESHA_EXE || fs.readlinkSync(`/proc/${pid}/ns/mnt`) !== fs.readlinkSync('/proc/self/ns/mnt')) return;
  } catch {
    return;
  }
  const log = at(GANESHA_LOG);
  const start = fs.existsSync(log) ? fs.statSync(log).size : 0;
  process.kill(pid, 'SIGHUP');
  const deadline = Date.now() + 20_000;
  let text = '';
  while (!/Reread exports complete|Export block error|Export defaults block error|Error while parsing/.test(text)) {
    if (Date.now() > deadline) throw new ExportfsError(`ganesha (pid ${pid}) did not finish reloading its exports in 20 s; see ${GANESHA_LOG}`);
    pause(10);
    text = readFrom(log, start);
  }
  pause(50);
  const errors = readFrom(log, start).split('\n').filter((l) => /:(CONFIG|EXPORT) :(CRIT|MAJ|FATAL) :/.test(l));
  if (errors.length > 0) throw new ExportfsError(`ganesha refused the new exports:\n${errors.join('\n')}`);
}

function readFrom(file: string, offset: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

if (require.main === module) {
  process.exitCode = exportfs(process.argv.slice(2), {
    root: '/',
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  });
}
