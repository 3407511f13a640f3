/**
 * What counts the stream's bytes on the source, between `zfs send` and ssh. The count feeds the
 * progress display and the stall watchdog; without one there is neither.
 *
 *   splice  byte-counter.py: Linux with Python >= 3.10; splice(2) and 1 MiB pipes, no copy, no cost
 *   pv      pv -n: illumos and older Linux; measured 5-8 % slower than the bare pipe here
 *   none    neither is installed
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sh, type ShellScript } from '../../core/quote';

export type ByteCounter = 'splice' | 'pv' | 'none';

/** The marker `pkill -f` can find the counter by (tests freeze it to simulate a stall). */
export const SPLICE_COUNTER_MARK = '# esxi-zfs byte counter';

const SPLICE_COUNTER = fs.readFileSync(path.join(__dirname, 'byte-counter.py'), 'utf8');

/** Prints which counter the host has: splice, pv or none. */
export const byteCounterProbe: ShellScript = sh`if python3 -c 'import os; os.splice' 2>/dev/null; then echo splice; elif command -v pv >/dev/null; then echo pv; else echo none; fi`;

export function parseByteCounter(output: string): ByteCounter {
  const word = output.trim();
  return word === 'splice' || word === 'pv' ? word : 'none';
}

/** The pipe stage, ending in `| `; its count goes to fd 3, the stream script's report channel. */
export function counterStage(counter: ByteCounter): ShellScript {
  if (counter === 'splice') return sh`${['python3', '-c', SPLICE_COUNTER]} | `;
  if (counter === 'pv') return sh`${['pv', '-f', '-n', '-b', '-i', '1']} 2>&3 | `;
  return sh``;
}
