/**
 * One round trip for all facts: a read-only script prints each command's output and each file in
 * a section, and `parseSections` splits them again. Every section starts with a header line
 *
 *   ::esxi-zfs:: KIND BYTES MODE UID GID NAME
 *
 * KIND is `exit:N` (a command and its exit code), `file`, `absent` or `link`; BYTES is the exact
 * length of the body that follows (so a body may hold anything, even a header-like line); MODE,
 * UID and GID are a file's (`-` otherwise); NAME, the rest of the line, is the command's name or
 * the file's path. A body that does not end where its length says means the output was cut or a
 * file changed while it was read: the facts are refused, never guessed.
 */
import { sh } from '../../quote';
import { NetworkPlanError } from './errors';
import type { FileText } from './facts';

export interface Section {
  name: string;
  /** `exit` for commands (with `code`), `file`, `absent` (no such file) or `link` (a symlink: `content` is its `ls -ld` line). */
  kind: 'exit' | 'file' | 'absent' | 'link';
  code?: number;
  mode?: string;
  uid?: number;
  gid?: number;
  content: string;
}

/** The shell functions the facts scripts use: `run NAME CMD...` and `show PATH`. POSIX sh, illumos and Linux. */
export const SECTION_FUNCTIONS = sh`t=$(mktemp /tmp/esxi-zfs-facts.XXXXXX) || exit 1
trap 'rm -f "$t"' 0
run() {
  name=$1; shift
  "$@" >"$t" 2>/dev/null
  printf '::esxi-zfs:: exit:%s %s - - - %s\\n' "$?" $(wc -c <"$t") "$name"
  cat "$t"
}
show() {
  if [ -h "$1" ]; then
    ls -ld "$1" >"$t"
    printf '::esxi-zfs:: link %s - - - %s\\n' $(wc -c <"$t") "$1"
    cat "$t"
  elif [ -f "$1" ]; then
    set -- "$1" $(ls -ldn "$1")
    printf '::esxi-zfs:: file %s %s %s %s %s\\n' "$6" "$2" "$4" "$5" "$1"
    cat "$1"
  else
    printf '::esxi-zfs:: absent 0 - - - %s\\n' "$1"
  fi
}
`;

const HEADER = '::esxi-zfs:: ';
const HEADER_LINE = /^::esxi-zfs:: (exit:(\d+)|file|absent|link) (\d+) (\S+) (\S+) (\S+) (.+)$/;

/** How many characters of `text`, from `from`, make `bytes` bytes of UTF-8; undefined if none do exactly. */
function charsForBytes(text: string, from: number, bytes: number): number | undefined {
  let used = 0;
  let i = from;
  while (used < bytes && i < text.length) {
    const cp = text.codePointAt(i)!;
    used += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp > 0xffff ? 2 : 1;
  }
  return used === bytes ? i - from : undefined;
}

const unreadable = (why: string) =>
  new NetworkPlanError('FactsUnreadable', `cannot read the guest's network facts: ${why} (output cut, or a file changed while it was read: read again)`);

export function parseSections(stdout: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  // Anything a login script printed before the first header is not ours.
  let at = stdout.startsWith(HEADER) ? 0 : stdout.indexOf(`\n${HEADER}`) + 1;
  if (at === 0 && !stdout.startsWith(HEADER)) throw unreadable('no section header');
  while (at < stdout.length) {
    const eol = stdout.indexOf('\n', at);
    if (eol === -1) throw unreadable('a header line without its end');
    const m = HEADER_LINE.exec(stdout.slice(at, eol));
    if (!m) throw unreadable(`not a section header: ${JSON.stringify(stdout.slice(at, Math.min(eol, at + 80)))}`);
    const length = charsForBytes(stdout, eol + 1, Number(m[3]));
    if (length === undefined) throw unreadable(`section ${m[7]} is shorter than its ${m[3]} bytes`);
    const kind = (m[2] !== undefined ? 'exit' : m[1]) as Section['kind'];
    const section: Section = { name: m[7]!, kind, content: stdout.slice(eol + 1, eol + 1 + length) };
    if (m[2] !== undefined) section.code = Number(m[2]);
    if (kind === 'file') Object.assign(section, { mode: m[4], uid: Number(m[5]), gid: Number(m[6]) });
    sections.set(section.name, section);
    at = eol + 1 + length;
    if (at < stdout.length && !stdout.startsWith(HEADER, at)) throw unreadable(`section ${m[7]} runs past its ${m[3]} bytes`);
  }
  return sections;
}

/** A file the script showed (absent when it did not). */
export function fileText(sections: Map<string, Section>, path: string): FileText {
  const s = sections.get(path);
  if (!s || s.kind === 'absent') return { path, exists: false, content: '' };
  if (s.kind === 'link') return { path, exists: true, content: '', symlink: s.content.trim() };
  return { path, exists: true, content: s.content, mode: s.mode, uid: s.uid, gid: s.gid };
}

/** A command's exit code and output. */
export function commandOutput(sections: Map<string, Section>, name: string): { code: number; output: string } {
  const s = sections.get(name);
  if (!s || s.kind !== 'exit') throw new NetworkPlanError('FactsUnreadable', `the facts have no output of ${name}`);
  return { code: s.code!, output: s.content };
}

