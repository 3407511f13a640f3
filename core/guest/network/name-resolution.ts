/**
 * configureNameResolution's plan: the host name (the boot file and the running name), the hosts
 * file's esxi-zfs block, and DNS when the spec gives it (without dns, resolv.conf and nsswitch.conf
 * are not touched). Files only change when their content differs.
 */
import type { HostsEntry, NetworkSpec } from '../../configure/shared';
import { hostNameProblem } from '../../names';
import { NetworkPlanError } from './errors';
import type { FileText } from './facts';
import type { NameFacts } from './name-facts';
import { mergeHostsBlock } from './hosts-file';
import { checkNetworkSpec } from './nic-mapping';
import { command, emptyPart, file, reportOf, type PlanPart } from './plan';
import type { NetworkProfile } from './profiles';
import { nsswitchContent, resolvContent } from './resolv';
import { fileSpecFor } from './style';

export interface NameResolutionPlan {
  actions: PlanPart['actions'];
  report: ReturnType<typeof reportOf>;
}

/** The VM's own entry (its FQDN first when the spec gives a domain, then its name) and the spec's. */
export function hostsEntries(spec: NetworkSpec): HostsEntry[] {
  const addresses = checkNetworkSpec(spec);
  const management = addresses[spec.nics.findIndex((n) => n.role === 'management')]!;
  const short = spec.hostName.split('.')[0]!;
  const fqdn = spec.hostName.includes('.') ? spec.hostName : spec.dns?.domain ? `${spec.hostName}.${spec.dns.domain}` : undefined;
  const own = { address: management.address, names: fqdn && fqdn !== short ? [fqdn, short] : [short] };
  return [own, ...spec.hosts];
}

function ensure(part: PlanPart, current: FileText, path: string, content: string, change: string): void {
  if (current.exists && current.content === content) part.found.push(`${path}: as planned`);
  else part.actions.push(file({ path, content, spec: fileSpecFor(current), change }));
}

export function planNameResolution(spec: NetworkSpec, facts: NameFacts, profile: NetworkProfile): NameResolutionPlan {
  const bad = hostNameProblem(spec.hostName);
  if (bad) throw new NetworkPlanError('BadNetworkSpec', `hostName: ${bad}`);
  const part = emptyPart();
  const short = spec.hostName.split('.')[0]!;

  ensure(part, facts.hostNameFile, profile.hostNamePath, `${short}\n`, `${profile.hostNamePath}: ${short}`);
  if (facts.hostName === short) part.found.push(`host name ${short}`);
  else part.actions.push(command(['hostname', short], `host name ${short} (was ${facts.hostName})`));

  const entries = hostsEntries(spec);
  ensure(part, facts.hosts, profile.hostsPath, mergeHostsBlock(facts.hosts.content, entries, spec.hostName), `${profile.hostsPath}: esxi-zfs block with ${entries.length} entries`);

  if (!spec.dns) {
    part.found.push('no dns in the spec: resolv.conf left as it is');
    return { actions: part.actions, report: reportOf(part) };
  }
  if (facts.resolvConf.symlink) {
    part.warnings.push(`${profile.resolvPath} is a symlink (${facts.resolvConf.symlink}): another service manages it, so it is not written; give it the spec's DNS servers there`);
  } else {
    ensure(part, facts.resolvConf, profile.resolvPath, resolvContent(facts.resolvConf.content, spec.dns), `${profile.resolvPath}: ${spec.dns.domain ? `domain ${spec.dns.domain}, ` : ''}nameserver ${spec.dns.servers.join(', ')}`);
  }
  if (profile.nsswitch && facts.nsswitch) {
    const template = facts.nsswitchDns?.exists ? facts.nsswitchDns.content : undefined;
    const next = nsswitchContent(facts.nsswitch.content, template);
    if (!next) part.found.push(`${profile.nsswitch.path}: hosts resolve through dns`);
    else {
      part.actions.push(file({
        path: profile.nsswitch.path,
        content: next.content,
        spec: fileSpecFor(facts.nsswitch),
        change: next.from === 'template' ? `${profile.nsswitch.path}: copied from ${profile.nsswitch.dnsTemplate} (hosts: files dns)` : `${profile.nsswitch.path}: dns added to hosts: and ipnodes:`,
      }));
      if (next.from === 'edit') part.warnings.push(`${profile.nsswitch.dnsTemplate} does not resolve hosts through dns: only the hosts: and ipnodes: lines of ${profile.nsswitch.path} were changed`);
    }
  }
  return { actions: part.actions, report: reportOf(part) };
}
