/**
 * illumos: the facts script and how its sections become NetworkFacts. The style is detected, not
 * assumed from the release: `ipadm show-addr` answering means ipadm (OmniOS, OpenIndiana); no
 * ipadm (OpenSolaris snv_134, the runbook's) means the legacy files and ifconfig.
 */
import { sh } from '../../quote';
import { NetworkPlanError } from './errors';
import type { NetworkFacts } from './facts';
import {
  ipadmLiveAddresses, parseDladmShowPhys, parseIfconfig, parseIpadmShowAddr, parseIpadmShowIf, parseNetstatRoutes,
  parseRoutePShow, parseSvcsPhysical,
} from './illumos-parse';
import { commandOutput, fileText, parseSections, SECTION_FUNCTIONS } from './sections';

export const ILLUMOS_HOSTS = '/etc/inet/hosts';

export const ILLUMOS_FACTS_SCRIPT = sh`${SECTION_FUNCTIONS}run svcs svcs -H -o state,fmri network/physical:nwam network/physical:default
run dladm dladm show-phys -p -o link,state
run ipadm-addr ipadm show-addr -p -o addrobj,type,state,current,addr
run ipadm-if ipadm show-if -p -o ifname
run ifconfig ifconfig -a
run netstat netstat -rnv -f inet
run route-p route -p show
run hostname uname -n
for f in /etc/hostname.* /etc/dhcp.*; do if [ -f "$f" ]; then show "$f"; fi; done
show /etc/defaultrouter
show /etc/nodename
show /etc/inet/hosts
show /etc/resolv.conf
show /etc/nsswitch.conf
show /etc/nsswitch.dns
`;

export function parseIllumosFacts(stdout: string): NetworkFacts {
  const sections = parseSections(stdout);
  const ok = (name: string) => {
    const r = commandOutput(sections, name);
    if (r.code !== 0) throw new NetworkPlanError('FactsUnreadable', `${name} exited with ${r.code} on the guest`);
    return r.output;
  };
  const ipadm = commandOutput(sections, 'ipadm-addr');
  const style = ipadm.code === 0 ? 'ipadm' : 'legacy';
  const ifconfig = parseIfconfig(ok('ifconfig'));
  const addrObjects = style === 'ipadm' ? parseIpadmShowAddr(ipadm.output) : [];
  const files = [...sections.values()];
  return {
    os: 'illumos',
    style,
    nics: parseDladmShowPhys(ok('dladm')).map((l) => l.link),
    addresses: style === 'ipadm' ? ipadmLiveAddresses(addrObjects) : ifconfig.addresses,
    routes: parseNetstatRoutes(ok('netstat')),
    illumos: {
      // svcs exits 1 when one of the two instances does not exist (OmniOS has no nwam): it still lists the other.
      services: parseSvcsPhysical(commandOutput(sections, 'svcs').output),
      ipInterfaces: style === 'ipadm' ? parseIpadmShowIf(ok('ipadm-if')).filter((i) => !i.startsWith('lo')) : ifconfig.plumbed,
      addrObjects,
      hostnameFiles: files.filter((s) => s.name.startsWith('/etc/hostname.')).map((s) => fileText(sections, s.name)),
      dhcpFiles: files.filter((s) => s.name.startsWith('/etc/dhcp.') && s.kind === 'file').map((s) => s.name.slice('/etc/dhcp.'.length)),
      defaultRouter: fileText(sections, '/etc/defaultrouter'),
      persistentRoutes: parseRoutePShow(ok('route-p')),
    },
    hostName: ok('hostname').trim(),
    hostNameFile: fileText(sections, '/etc/nodename'),
    hosts: fileText(sections, ILLUMOS_HOSTS),
    resolvConf: fileText(sections, '/etc/resolv.conf'),
    nsswitch: fileText(sections, '/etc/nsswitch.conf'),
    nsswitchDns: fileText(sections, '/etc/nsswitch.dns'),
  };
}
