/**
 * Files on a storage VM as plain text and the portable scripts that read and replace them: what a
 * transport's readFile and ensureFile run (ls -ldn, mktemp, chown, chmod, mv: on every Unix).
 */
import { sh, type ShellScript } from './quote';

export interface FileFacts {
  exists: boolean;
  /** `-rw-------` etc. */
  mode?: string;
  uid?: number;
  gid?: number;
  content: string;
}

/**
 * The output of `readFileScript`: `absent`, or the `ls -ldn` line followed by the content.
 * `ls -ldn` is on every Unix (illumos has no GNU stat).
 */
export function parseFileFacts(stdout: string): FileFacts {
  const nl = stdout.indexOf('\n');
  const first = nl === -1 ? stdout : stdout.slice(0, nl);
  if (first.trim() === 'absent') return { exists: false, content: '' };
  const f = first.trim().split(/\s+/);
  return { exists: true, mode: f[0], uid: Number(f[2]), gid: Number(f[3]), content: nl === -1 ? '' : stdout.slice(nl + 1) };
}

/** `drwx------` / `-rw-------` → 0o700 / 0o600 (setuid and sticky bits ignored). */
export function modeBits(mode: string | undefined): number | undefined {
  if (!mode || mode.length < 10) return undefined;
  let bits = 0;
  for (let i = 1; i <= 9; i++) {
    const c = mode[i]!;
    if (c !== '-' && c !== 'S' && c !== 'T') bits |= 1 << (9 - i);
  }
  return bits;
}

/** How a file must be: owner, mode, and what its folder gets when it has to be created. */
export interface FileSpec {
  /** `uid:gid`, numeric (portable: illumos and Linux). */
  owner: string;
  /** Octal, e.g. `600`. */
  mode: string;
  /** Mode and owner of the folder when it has to be created. */
  dirMode: string;
  dirOwner?: string;
  /** A checker run on the temp file before it replaces the old one (`visudo -cf`). */
  validate?: string[];
}

const dirname = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';

/** `ls -ldn` of the file then its content, or `absent`: read by `parseFileFacts`. */
export function readFileScript(path: string): ShellScript {
  return sh`if [ -f ${path} ]; then ls -ldn ${path} && cat ${path}; else echo absent; fi`;
}

/** stdin → temp file in the same folder → owner, mode, check → `mv` into place (atomic). */
export function writeFileScript(path: string, o: FileSpec): ShellScript {
  const dir = dirname(path);
  const validate = o.validate ? sh`if ! ${o.validate} "$tmp" >&2; then rm -f "$tmp"; exit 3; fi
` : sh``;
  return sh`umask 022
if [ ! -d ${dir} ]; then mkdir -p ${dir} && chmod ${o.dirMode} ${dir} && chown ${o.dirOwner ?? o.owner} ${dir} || exit 1; fi
tmp=$(mktemp ${`${dir}/.esxi-zfs.XXXXXX`}) || exit 1
if ! cat >"$tmp"; then rm -f "$tmp"; exit 1; fi
if ! { chown ${o.owner} "$tmp" && chmod ${o.mode} "$tmp"; }; then rm -f "$tmp"; exit 1; fi
${validate}mv -f "$tmp" ${path} || { rm -f "$tmp"; exit 1; }
`;
}
