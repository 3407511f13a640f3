/** Managed lines in a text file (authorized_keys, known_hosts): merged without disturbing the rest. */
import { MANAGED_TAG } from './shared';

export interface MergeResult {
  content: string;
  changed: string[];
}

export function splitLines(content: string): string[] {
  const lines = content.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export const joinLines = (lines: string[]) => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);


/** The source or target a managed line is for (its comment `esxi-zfs:NAME`), or undefined when not ours. */
export const managedName = (comment: string | undefined): string | undefined =>
  comment?.startsWith(MANAGED_TAG) ? comment.slice(MANAGED_TAG.length) : undefined;
