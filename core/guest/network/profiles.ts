/**
 * The network half of each OS profile: how to read the facts, where the name files are, and the
 * style that writes the configuration (detected from the facts on illumos). To be wired into
 * core/guest/profile.ts as `GuestProfile.network`.
 */
import type { OsProfile } from '../../hosts';
import type { ShellScript } from '../../quote';
import type { NetworkFacts } from './facts';
import { ILLUMOS_FACTS_SCRIPT, ILLUMOS_HOSTS, parseIllumosFacts } from './illumos-facts';
import { ifupdownStyle } from './ifupdown';
import { ipadmStyle } from './ipadm';
import { legacyStyle } from './legacy';
import { LINUX_FACTS_SCRIPT, parseLinuxFacts } from './linux-facts';
import type { NetworkStyle } from './style';

export interface NetworkProfile {
  os: OsProfile;
  /** Read-only; prints every fact in one round trip (run it with the transport's runScript). */
  factsScript: ShellScript;
  parseFacts(stdout: string): NetworkFacts;
  style(facts: NetworkFacts): NetworkStyle;
  /** The real hosts file (/etc/hosts is a symlink to it on illumos: writing through the link would replace it). */
  hostsPath: string;
  resolvPath: string;
  /** The file that names the host at boot. */
  hostNamePath: string;
  /** Name service switch: illumos only. */
  nsswitch?: { path: string; dnsTemplate: string };
}

const STYLES = { ifupdown: ifupdownStyle, ipadm: ipadmStyle, legacy: legacyStyle };

export const networkProfiles: Record<OsProfile, NetworkProfile> = {
  linux: {
    os: 'linux',
    factsScript: LINUX_FACTS_SCRIPT,
    parseFacts: parseLinuxFacts,
    style: () => ifupdownStyle,
    hostsPath: '/etc/hosts',
    resolvPath: '/etc/resolv.conf',
    hostNamePath: '/etc/hostname',
  },
  illumos: {
    os: 'illumos',
    factsScript: ILLUMOS_FACTS_SCRIPT,
    parseFacts: parseIllumosFacts,
    style: (facts) => STYLES[facts.style],
    hostsPath: ILLUMOS_HOSTS,
    resolvPath: '/etc/resolv.conf',
    hostNamePath: '/etc/nodename',
    nsswitch: { path: '/etc/nsswitch.conf', dnsTemplate: '/etc/nsswitch.dns' },
  },
};
