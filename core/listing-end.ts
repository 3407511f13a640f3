/**
 * Listings that prove they are whole. `zfs get`, `zfs list`, `zpool status` print nothing that
 * says "this is all": an SSH session cut mid-listing, or a host that exits 0 after half of it,
 * would read as a shorter listing (a snapshot missing, a device gone) and a plan built on it. The
 * command is run with an end line after it: the marker with a nonce the caller chose and the
 * command's exit status. Output without that exact last line was cut short: an error, never read.
 */
import { sh, type ShellScript } from './quote';

const END = 'esxi-zfs-listing-end';

/** `argv`, then `\n<END>:<nonce> <status>\n`; exits with the command's own status. */
export function endMarked(argv: readonly string[], nonce: string): ShellScript {
  if (!/^[0-9a-f]{8,}$/.test(nonce)) throw new Error(`endMarked: nonce ${JSON.stringify(nonce)} is not hex`);
  return sh`${argv}; s=$?; printf '\\n%s %s\\n' ${`${END}:${nonce}`} "$s"; exit "$s"`;
}

export class ListingCutShortError extends Error {
  constructor(readonly what: string, readonly bytes: number) {
    super(`${what}: the listing was cut short (${bytes} characters read, no end line after them); nothing read from it`);
    this.name = 'ListingCutShortError';
  }
}

/** The command's own output and exit status, or ListingCutShortError when the end line is not the last. */
export function readEndMarked(stdout: string, nonce: string, what: string): { stdout: string; status: number } {
  const m = new RegExp(`\\n${END}:${nonce} (\\d+)\\n$`).exec(stdout);
  if (!m) throw new ListingCutShortError(what, stdout.length);
  return { stdout: stdout.slice(0, m.index), status: Number(m[1]) };
}
