/**
 * What configureNameResolution reads: the host name and the name files, in one round trip. The
 * full facts script also lists NICs, addresses and routes, which this step does not use and which
 * cost most of that script's time.
 */
import { sh, type ShellScript } from '../../quote';
import { NetworkPlanError } from './errors';
import type { NetworkFacts } from './facts';
import type { NetworkProfile } from './profiles';
import { commandOutput, fileText, parseSections, SECTION_FUNCTIONS } from './sections';

export type NameFacts = Pick<NetworkFacts, 'hostName' | 'hostNameFile' | 'hosts' | 'resolvConf' | 'nsswitch' | 'nsswitchDns'>;

type NamePaths = Pick<NetworkProfile, 'hostNamePath' | 'hostsPath' | 'resolvPath' | 'nsswitch'>;

export function nameFactsScript(paths: NamePaths): ShellScript {
  const files = [paths.hostNamePath, paths.hostsPath, paths.resolvPath, ...(paths.nsswitch ? [paths.nsswitch.path, paths.nsswitch.dnsTemplate] : [])];
  return sh`${SECTION_FUNCTIONS}run hostname uname -n
for f in ${files}; do show "$f"; done
`;
}

export function parseNameFacts(stdout: string, paths: NamePaths): NameFacts {
  const sections = parseSections(stdout);
  const hostName = commandOutput(sections, 'hostname');
  if (hostName.code !== 0) throw new NetworkPlanError('FactsUnreadable', `hostname exited with ${hostName.code} on the guest`);
  return {
    hostName: hostName.output.trim(),
    hostNameFile: fileText(sections, paths.hostNamePath),
    hosts: fileText(sections, paths.hostsPath),
    resolvConf: fileText(sections, paths.resolvPath),
    ...(paths.nsswitch
      ? { nsswitch: fileText(sections, paths.nsswitch.path), nsswitchDns: fileText(sections, paths.nsswitch.dnsTemplate) }
      : {}),
  };
}
