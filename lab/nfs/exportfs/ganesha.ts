/** ganesha's export config rendered from the table: one EXPORT per path, a CLIENT block per client. */
import { addressesIn, clientRank, parseClient } from './clients';
import { formatOptions } from './options';
import { ExportfsError, HOSTS_FILE } from './paths';
import type { ExportEntry } from './table';

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
