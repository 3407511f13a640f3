/**
 * illumos without ipadm, as in the runbook (OpenSolaris snv_134): network/physical:default reads
 * /etc/hostname.<if> at boot, the default router comes from /etc/defaultrouter, live changes are
 * ifconfig's.
 *
 * /etc/hostname.<if> holds exactly one line, `10.0.1.41/24`, and nothing else: net-physical runs
 * `ifconfig <if> inet <line> netmask + broadcast + up` for a one-line file, and ifconfig takes the
 * prefix from the address (a prefix wins over `netmask +` unless /etc/netmasks has an entry for
 * that network). A blank line would make net-physical treat the file as commands and skip the
 * address (the runbook's pitfall): the file never has one, and one that does is rewritten. A
 * hostname file in the runbook's form (`uss1.esan.data1 netmask 255.255.255.0 ...`, the name
 * looked up in the hosts file) that gives the spec's address is left as it is.
 */
import { sh, type ShellScript } from '../../quote';
import type { LiveAddress, NetworkFacts } from './facts';
import { parseHostnameFile } from './illumos-parse';
import { DEFAULTROUTER, illumosRoutes } from './illumos-routes';
import { formatCidr, inSubnet, sameCidr, type Cidr } from './ipv4';
import { command, emptyPart, file, mergeParts, type PlanPart, type PlannedAction, type TimedRevert } from './plan';
import { fileSpecFor, type NetworkStyle, type NicWork, type SwitchStages } from './style';
import { restoreFileStep, REVERT_SECONDS, revertFlag, timedRevert } from './timed-revert';

const hostnameFile = (device: string): string => `/etc/hostname.${device}`;
const hostnameLine = (c: Cidr): string => `${formatCidr(c)}\n`;

/** The hostname file for `device` holding `address`, unless it already gives it (in any form), without a blank line. */
function hostnameFilePart(device: string, address: Cidr, facts: NetworkFacts): { part: PlanPart; undo: ShellScript[] } {
  const path = hostnameFile(device);
  const current = facts.illumos!.hostnameFiles.find((f) => f.path === path);
  const parsed = current ? parseHostnameFile(current, facts.hosts.content) : undefined;
  const part = emptyPart();
  if (parsed?.address && sameCidr(parsed.address, address) && !parsed.blankLine) {
    part.found.push(`${path}: ${formatCidr(address)}`);
    return { part, undo: [] };
  }
  const why = parsed?.blankLine ? ' (it had a blank line)' : parsed?.address ? ` (was ${formatCidr(parsed.address)})` : '';
  part.actions.push(file({ path, content: hostnameLine(address), spec: fileSpecFor(current), change: `${path}: ${formatCidr(address)}${why}` }));
  const undo = [restoreFileStep(path, current?.content)];
  if (facts.illumos!.dhcpFiles.includes(device)) {
    part.actions.push(command(['rm', '-f', `/etc/dhcp.${device}`], `/etc/dhcp.${device}: removed (${device} is static)`));
    undo.push(sh`touch ${`/etc/dhcp.${device}`}`);
  }
  return { part, undo };
}

function liveNic(nic: NicWork, facts: NetworkFacts): PlanPart {
  const part = emptyPart();
  const live = facts.addresses.filter((a) => a.device === nic.device);
  const want = live.find((a) => sameCidr(a, nic.address));
  if (!facts.illumos!.ipInterfaces.includes(nic.device)) part.actions.push(command(['ifconfig', nic.device, 'plumb'], `${nic.device}: plumbed`));
  if (want) part.found.push(`${nic.device}: ${formatCidr(nic.address)} live`);
  else {
    if (live.some((a) => a.dynamic)) part.actions.push(command(['ifconfig', nic.device, 'dhcp', 'drop'], `${nic.device}: DHCP stopped`));
    part.actions.push(command(['ifconfig', nic.device, formatCidr(nic.address), 'up'], `${nic.device}: ${formatCidr(nic.address)} up`));
  }
  for (const other of live.filter((a) => a !== want && a.handle?.includes(':'))) {
    part.actions.push(command(['ifconfig', nic.device, 'removeif', other.address], `${nic.device}: ${formatCidr(other)} (${other.handle}) removed`));
  }
  return part;
}

function configureNics(nics: NicWork[], facts: NetworkFacts): PlanPart {
  return mergeParts(
    nics.flatMap((nic) => {
      const persistent = hostnameFilePart(nic.device, nic.address, facts).part;
      if (!nic.connected) return [persistent, liveNic(nic, facts)];
      const dynamic = facts.addresses.some((a) => a.device === nic.device && a.dynamic);
      return [persistent, { ...emptyPart(), warnings: dynamic ? [`${nic.device}: ${formatCidr(nic.address)} comes from DHCP until the next boot, then from ${hostnameFile(nic.device)}`] : [] }];
    }),
  );
}

/**
 * The default route nwam set (from DHCP) goes with nwam: physical:default brings it back from
 * /etc/defaultrouter, so a worker on another network still reaches the VM afterwards.
 */
function keepDefaultRouter(facts: NetworkFacts, connected: LiveAddress): { part: PlanPart; undo: ShellScript[] } {
  const part = emptyPart();
  const { defaultRouter } = facts.illumos!;
  const gateway = facts.routes.find((r) => r.to === 'default' && inSubnet(r.via, connected))?.via;
  if (!gateway || defaultRouter.exists) return { part, undo: [] };
  part.actions.push(file({ path: DEFAULTROUTER, content: `${gateway}\n`, spec: fileSpecFor(defaultRouter), change: `${DEFAULTROUTER}: ${gateway} (the default route nwam set, kept)` }));
  return { part, undo: [restoreFileStep(DEFAULTROUTER, undefined)] };
}

/**
 * With nwam online (an OpenSolaris install's default), network/physical:default must take over
 * first, as the runbook does. The hostname files are written before, so that it brings up the
 * spec's NICs and keeps the address the worker is connected to (written as it is now; the
 * management switch moves it later). The switch itself runs detached under a timed revert, since
 * interfaces may be re-plumbed under the session.
 */
function servicesPass(facts: NetworkFacts, nics: NicWork[], connected: LiveAddress): { part: PlanPart; guard: TimedRevert } | undefined {
  const { nwam, default: physical } = facts.illumos!.services;
  if (physical === 'online' && nwam !== 'online') return undefined;
  const files = [
    hostnameFilePart(connected.device, connected, facts),
    ...nics.filter((n) => !n.connected).map((n) => hostnameFilePart(n.device, n.address, facts)),
    keepDefaultRouter(facts, connected),
  ];
  const apply = [...(nwam === 'online' ? [sh`svcadm disable -s network/physical:nwam`] : []), sh`svcadm enable -s network/physical:default`];
  const revert = [sh`svcadm disable -s network/physical:default`, ...(nwam === 'online' ? [sh`svcadm enable -s network/physical:nwam`] : []), ...files.flatMap((f) => f.undo).reverse()];
  const part = mergeParts(files.map((f) => f.part));
  part.warnings.push(`network/physical:default takes over${nwam === 'online' ? ' from nwam' : ''}: read the facts again and plan once more after it`);
  return {
    part,
    guard: timedRevert({ flag: revertFlag('network-services'), seconds: REVERT_SECONDS, apply, revert, what: `network/physical:default enabled${nwam === 'online' ? ', nwam disabled' : ''}` }),
  };
}

function switchStages(nic: NicWork, old: LiveAddress, facts: NetworkFacts): SwitchStages {
  const next = formatCidr(nic.address);
  const already = facts.addresses.some((a) => a.device === nic.device && sameCidr(a, nic.address));
  const persistent = hostnameFilePart(nic.device, nic.address, facts);
  const routes = illumosRoutes([...(nic.gateway ? [{ to: 'default', via: nic.gateway, device: nic.device }] : []), ...nic.routes], facts);
  const onZero = !old.handle?.includes(':');
  // Logical interface 0 cannot be removed (removeif refuses it): its address is cleared instead.
  const removeOld: PlannedAction = onZero
    ? old.dynamic
      ? command(['ifconfig', nic.device, 'dhcp', 'release'], `${nic.device}: ${formatCidr(old)} released (DHCP)`)
      : command(['ifconfig', nic.device, '0.0.0.0', 'down'], `${nic.device}: ${formatCidr(old)} cleared (the worker uses ${nic.address.address} on ${nic.device}:N now)`)
    : command(['ifconfig', nic.device, 'removeif', old.address], `${nic.device}: ${formatCidr(old)} (${old.handle}) removed`);
  return {
    addNew: already
      ? { ...emptyPart(), found: [`${nic.device}: ${next} already live`] }
      : { ...emptyPart(), actions: [command(['ifconfig', nic.device, 'addif', next, 'up'], `${nic.device}: ${next} added next to ${formatCidr(old)}`)] },
    removeNew: { ...emptyPart(), actions: [command(['ifconfig', nic.device, 'removeif', nic.address.address], `${nic.device}: ${next} removed again (it did not answer)`)] },
    persistAndRemoveOld: mergeParts([persistent.part, routes.part, { ...emptyPart(), actions: [removeOld] }]),
    restoreOld: [
      ...persistent.undo,
      onZero ? sh`ifconfig ${nic.device} ${formatCidr(old)} up` : sh`ifconfig ${nic.device} addif ${formatCidr(old)} up`,
      ...routes.undo,
      sh`ifconfig ${nic.device} removeif ${nic.address.address}`,
    ],
  };
}

export const legacyStyle: NetworkStyle = {
  name: 'legacy',
  servicesPass,
  configureNics,
  configureRoutes: (routes, facts) => illumosRoutes(routes, facts).part,
  switchStages,
};
