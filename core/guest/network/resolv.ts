/**
 * DNS, when the spec gives it: /etc/resolv.conf's `nameserver` lines become the spec's servers
 * and, when it gives a domain, `domain`/`search` become `domain <it>` (the runbook's line); every
 * other line (comments, `options`) is kept, ours follow them. illumos also needs `dns` on the
 * `hosts:` line of nsswitch.conf: the runbook copies /etc/nsswitch.dns over it, and so do we
 * (atomically); when that template lacks dns too, only the hosts: and ipnodes: lines get it.
 */
import type { NetworkSpec } from '../../configure/shared';
import { hostNameProblem, ipv4Problem } from '../../names';
import { NetworkPlanError } from './errors';

export type DnsSpec = NonNullable<NetworkSpec['dns']>;

export function checkDns(dns: DnsSpec): void {
  if (dns.servers.length === 0) throw new NetworkPlanError('BadNetworkSpec', 'dns needs at least one server');
  for (const s of dns.servers) {
    const bad = ipv4Problem(s);
    if (bad) throw new NetworkPlanError('BadNetworkSpec', `dns server: ${bad}`);
  }
  const bad = dns.domain === undefined ? undefined : hostNameProblem(dns.domain);
  if (bad) throw new NetworkPlanError('BadNetworkSpec', `dns domain: ${bad}`);
}

export function resolvContent(current: string, dns: DnsSpec): string {
  checkDns(dns);
  const ours = /^\s*(nameserver|domain|search)\b/;
  const kept = current.split('\n').filter((l, i, all) => !(i === all.length - 1 && l === '')).filter((l) => {
    const m = ours.exec(l);
    return !m || (m[1] !== 'nameserver' && dns.domain === undefined);
  });
  return [...kept, ...(dns.domain ? [`domain ${dns.domain}`] : []), ...dns.servers.map((s) => `nameserver ${s}`), ''].join('\n');
}

const hostsLine = (content: string) => /^hosts:(.*)$/m.exec(content)?.[1];
export const resolvesWithDns = (nsswitch: string): boolean => (hostsLine(nsswitch) ?? '').split(/\s+/).includes('dns');

/** The nsswitch.conf to write, or undefined when its hosts: line already has dns. */
export function nsswitchContent(current: string, template: string | undefined): { content: string; from: 'template' | 'edit' } | undefined {
  if (resolvesWithDns(current)) return undefined;
  if (template !== undefined && resolvesWithDns(template)) return { content: template, from: 'template' };
  const content = current.replace(/^(hosts|ipnodes):(.*)$/gm, (line, db: string, sources: string) =>
    sources.split(/\s+/).includes('dns') ? line : `${db}:${sources.replace(/\s*$/, '')} dns`,
  );
  return { content, from: 'edit' };
}
