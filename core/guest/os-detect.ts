/** Which OS profile a guest's `uname -s -r -v` belongs to. Pure. */
import type { OsProfile } from '../hosts';

const KERNELS = new Map<string, OsProfile>([['SunOS', 'illumos'], ['Linux', 'linux']]);

export interface DetectedOs {
  profile?: OsProfile;
  /** What uname said, for the report: `SunOS 5.11 omnios-r151046-...`. */
  uname: string;
}

export function detectOs(unameOutput: string): DetectedOs {
  const uname = unameOutput.trim().replace(/\s+/g, ' ');
  return { profile: KERNELS.get(uname.split(' ')[0]!), uname };
}

/** Why the guest does not match the inventory's profile, or undefined when it does. */
export function osMismatch(expected: OsProfile, detected: DetectedOs): string | undefined {
  if (detected.profile === expected) return undefined;
  const is = detected.profile ? `a${detected.profile === 'illumos' ? 'n' : ''} ${detected.profile} guest` : 'an OS esxi-zfs has no profile for';
  return `the inventory says os: ${expected}, but the guest is ${is} (uname: ${detected.uname.slice(0, 120)}): fix the storage VM's os in the inventory, or check that ssh.address reaches the right VM`;
}
