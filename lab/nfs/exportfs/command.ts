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
 * only, when rendering. It runs as a standalone script (lab/bin/exportfs/, transpiled from this
 * folder), so it imports nothing but Node's own modules and its own files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseClient } from './clients';
import { renderGanesha } from './ganesha';
import { isDirectory, isMountPoint, readIds, readText, withLock, writeAtomic } from './host-files';
import { DEFAULT_OPTIONS, formatOptions, parseOptions } from './options';
import { ETAB, ETAB_LOCK, EXPORT_IDS, EXPORTS_DIR, EXPORTS_FILE, ExportfsError, GANESHA_EXPORTS, HOSTS_FILE } from './paths';
import { reloadGanesha } from './reload';
import { checkPath, escapePath, formatEtab, parseEtab, parseExports, type ExportEntry } from './table';

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

/** The installed /usr/local/sbin/exportfs calls this (lab/nfs/server.ts). */
export function main(): void {
  process.exitCode = exportfs(process.argv.slice(2), {
    root: '/',
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  });
}
