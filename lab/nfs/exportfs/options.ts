/** exports(5) options: the ones the lab models, parsed and formatted as nfs-utils does; any other is refused. */
import { ExportfsError } from './paths';

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
