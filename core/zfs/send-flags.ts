/**
 * The `zfs send` flags of a run: what the inventory asks for and what both pools offer (detected,
 * never assumed). Pure, and used by the workflow itself.
 */
import type { Capabilities } from './capabilities';
import type { SendOption } from '../../inventory/schema';

export interface SendFlagsInput {
  options: SendOption[];
  recursive: boolean;
  /** Capabilities both pools share (send-side features need the receiver too). */
  common: Capabilities;
  /** Numbered pool versions (legacy): dedup streams exist from pool version 21. */
  sourcePoolVersion: number | 'feature-flags';
}

/** Flags for `zfs send`, and a warning for each requested option this ZFS cannot honour. */
export function sendFlags(input: SendFlagsInput): { flags: string[]; warnings: string[] } {
  const flags: string[] = [];
  const warnings: string[] = [];
  const want = new Set(input.options);
  if (input.recursive) flags.push('-R');
  if (want.has('properties') && !input.recursive) flags.push('-p'); // -R already carries properties
  if (want.has('dedup')) {
    // Deduplicated streams: pool version 21+ (snv_128); OpenZFS 2.2 dropped them, so feature-flag
    // pools get a plain stream rather than an error.
    if (typeof input.sourcePoolVersion === 'number' && input.sourcePoolVersion >= 21) flags.push('-D');
    else warnings.push('dedup: this ZFS does not offer deduplicated send streams (-D); sent without it');
  }
  const optional: [SendOption, keyof Capabilities, string][] = [
    ['compressed', 'compressedSend', '-c'],
    ['largeBlocks', 'largeBlocks', '-L'],
    ['embedded', 'embeddedData', '-e'],
    ['raw', 'rawSend', '-w'],
  ];
  for (const [option, capability, flag] of optional) {
    if (!want.has(option)) continue;
    if (input.common[capability]) flags.push(flag);
    else warnings.push(`${option}: not supported by both pools (${flag}); sent without it`);
  }
  return { flags, warnings };
}
