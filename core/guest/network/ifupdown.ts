/**
 * Debian ifupdown: one file per NIC in /etc/network/interfaces.d/esxi-zfs-<if> (address, the
 * gateway on the NIC that has it, `up`/`down` lines for its routes), and live `ip` commands.
 *
 * A stanza for the same interface elsewhere (the installer's in /etc/network/interfaces) is left
 * where it is when it already says what the spec says (static, same address, same gateway, the
 * spec's routes among its `up` lines); otherwise its lines are commented out in place (prefix
 * `#esxi-zfs-off# `, so the change is visible and reversible) and ours is written: two stanzas for
 * one interface would both run at boot.
 */
import { sh } from '../../quote';
import type { LiveAddress, LiveRoute, NetworkFacts } from './facts';
import { INTERFACES_DIR, INTERFACES_FILE, isSourced, splitLines, type IfupdownConfig, type IfupdownStanza } from './ifupdown-parse';
import { formatCidr, sameCidr } from './ipv4';
import { command, emptyPart, file, mergeParts, type PlanPart } from './plan';
import { fileSpecFor, type NetworkStyle, type NicWork, type RouteWork, type SwitchStages } from './style';
import { restoreFileStep } from './timed-revert';

const OFF_PREFIX = '#esxi-zfs-off# ';
const OURS_SOURCE = `source ${INTERFACES_DIR}/esxi-zfs-*`;

const ourFile = (device: string): string => `${INTERFACES_DIR}/esxi-zfs-${device.replace(/[^A-Za-z0-9_-]/g, '_')}`;

const routeArgs = (r: RouteWork) => `${r.to} via ${r.via} dev ${r.device}`;

/** Our stanza for one NIC. */
export function stanzaText(nic: NicWork): string {
  return [
    `# esxi-zfs: ${nic.device} (${nic.role}), from the inventory; changes here are replaced`,
    `auto ${nic.device}`,
    `iface ${nic.device} inet static`,
    `\taddress ${formatCidr(nic.address)}`,
    ...(nic.gateway ? [`\tgateway ${nic.gateway}`] : []),
    ...nic.routes.flatMap((r) => [`\tup ip route add ${routeArgs(r)}`, `\tdown ip route del ${routeArgs(r)}`]),
    '',
  ].join('\n');
}

/** Whether a stanza we did not write configures the NIC as the spec says. */
function saysTheSame(s: IfupdownStanza, nic: NicWork): boolean {
  return (
    s.method === 'static' &&
    s.address !== undefined &&
    sameCidr(s.address, nic.address) &&
    s.gateway === nic.gateway &&
    nic.routes.every((r) => s.up.some((u) => new RegExp(`route (add|replace) ${r.to.replace(/\./g, '\\.')} via ${r.via.replace(/\./g, '\\.')}( |$)`).test(u)))
  );
}

/** `files`' new contents with the stanzas (and `auto` lines) of `devices` commented out. */
function commentOut(config: IfupdownConfig, stanzas: IfupdownStanza[]): Map<string, string> {
  const out = new Map<string, string>();
  const devices = new Set(stanzas.map((s) => s.device));
  for (const path of new Set(stanzas.map((s) => s.file))) {
    const f = config.files.find((x) => x.path === path)!;
    const lines = splitLines(f.content);
    const off = new Set<number>();
    for (const s of stanzas.filter((x) => x.file === path)) for (let i = s.first; i <= s.last; i++) off.add(i);
    const rewritten = new Map<number, string>();
    for (const a of config.autos.filter((x) => x.file === path && x.devices.some((d) => devices.has(d)))) {
      off.add(a.line);
      const rest = a.devices.filter((d) => !devices.has(d));
      if (rest.length > 0) rewritten.set(a.line, `${a.keyword} ${rest.join(' ')}`);
    }
    const result = lines.flatMap((line, i) => {
      if (!off.has(i)) return [line];
      const again = rewritten.get(i);
      return again === undefined ? [OFF_PREFIX + line] : [OFF_PREFIX + line, again];
    });
    out.set(path, result.join('\n') + (f.content.endsWith('\n') || f.content === '' ? '\n' : ''));
  }
  return out;
}

/** Stops whichever DHCP client ifupdown started for an interface ($1): its address stays, with its lease lifetime. */
const STOP_DHCP =
  'for p in /run/dhclient."$1".pid /run/dhclient-"$1".pid /run/dhcpcd/"$1".pid /run/dhcpcd-"$1".pid /run/udhcpc."$1".pid; do ' +
  'if [ -f "$p" ]; then kill "$(cat "$p")" 2>/dev/null; fi; done; exit 0';
const stopDhcp = (device: string) => command(['sh', '-c', STOP_DHCP, 'sh', device], `${device}: stopped its DHCP client (the interface is static now)`);

/** Persistent configuration of these NICs: our files, foreign stanzas commented out, the main file sourcing ours. */
function persistence(nics: NicWork[], facts: NetworkFacts): PlanPart {
  const config = facts.linux!.ifupdown;
  const part = emptyPart();
  const disable: IfupdownStanza[] = [];
  const writes = new Map<string, { content: string; change: string }>();
  let oursNeeded = false;
  for (const nic of nics) {
    const path = ourFile(nic.device);
    const foreign = config.stanzas.filter((s) => s.device === nic.device && s.family === 'inet' && s.file !== path);
    const current = config.files.find((f) => f.path === path);
    if (foreign.length === 1 && saysTheSame(foreign[0]!, nic)) {
      part.found.push(`${nic.device}: ${foreign[0]!.file} configures ${formatCidr(nic.address)} as the spec says: left there`);
      if (current?.exists) part.actions.push(command(['rm', '-f', path], `${path}: removed (${foreign[0]!.file} already configures ${nic.device})`));
      continue;
    }
    oursNeeded = true;
    disable.push(...foreign);
    for (const s of foreign) part.warnings.push(`${nic.device}: its stanza in ${s.file} (inet ${s.method}) differs from the spec: commented out there (${OFF_PREFIX.trim()})`);
    const content = stanzaText(nic);
    if (current?.exists && current.content === content) part.found.push(`${path}: as planned`);
    else writes.set(path, { content, change: `${path}: ${nic.device} ${formatCidr(nic.address)}${nic.gateway ? ` gateway ${nic.gateway}` : ''}${nic.routes.length ? `, ${nic.routes.length} route(s)` : ''}` });
  }
  const edited = commentOut(config, disable);
  const changes = new Map([...edited.keys()].map((path) => [path, `${path}: stanza of ${[...new Set(disable.filter((s) => s.file === path).map((s) => s.device))].join(', ')} commented out`]));
  if (oursNeeded && !isSourced(ourFile('x'), config.sources)) {
    const main = config.files.find((f) => f.path === INTERFACES_FILE);
    const base = edited.get(INTERFACES_FILE) ?? (main?.exists ? main.content : '');
    edited.set(INTERFACES_FILE, `${base}${base === '' || base.endsWith('\n') ? '' : '\n'}${base === '' ? '' : '\n'}${OURS_SOURCE}\n`);
    changes.set(INTERFACES_FILE, `${changes.get(INTERFACES_FILE) ?? INTERFACES_FILE}${changes.has(INTERFACES_FILE) ? ',' : ':'} reads ${INTERFACES_DIR}/esxi-zfs-* (${OURS_SOURCE})`);
  }
  for (const [path, content] of edited) {
    part.actions.push(file({ path, content, spec: fileSpecFor(config.files.find((x) => x.path === path)), change: changes.get(path)! }));
  }
  for (const [path, w] of writes) part.actions.push(file({ path, content: w.content, spec: fileSpecFor(config.files.find((f) => f.path === path)), change: w.change }));
  return part;
}

function liveAddresses(nic: NicWork, facts: NetworkFacts): PlanPart {
  const part = emptyPart();
  const live = facts.addresses.filter((a) => a.device === nic.device);
  const want = live.find((a) => sameCidr(a, nic.address));
  if (nic.connected) {
    if (want?.dynamic) {
      part.actions.push(stopDhcp(nic.device));
      part.actions.push(command(['ip', 'addr', 'replace', formatCidr(nic.address), 'dev', nic.device, 'valid_lft', 'forever', 'preferred_lft', 'forever'], `${nic.device}: ${formatCidr(nic.address)} kept for good (no lease)`));
    }
    return part;
  }
  if (live.some((a) => a.dynamic)) part.actions.push(stopDhcp(nic.device));
  if (facts.linux!.linksDown.includes(nic.device)) part.actions.push(command(['ip', 'link', 'set', 'dev', nic.device, 'up'], `${nic.device}: link up`));
  if (want && !want.dynamic) part.found.push(`${nic.device}: ${formatCidr(nic.address)} live`);
  else part.actions.push(command(['ip', 'addr', 'replace', formatCidr(nic.address), 'dev', nic.device], `${nic.device}: ${formatCidr(nic.address)} added`));
  for (const other of live.filter((a) => !sameCidr(a, nic.address))) {
    part.actions.push(command(['ip', 'addr', 'del', formatCidr(other), 'dev', nic.device], `${nic.device}: ${formatCidr(other)} removed (not in the spec)`));
  }
  return part;
}

const hasRoute = (routes: LiveRoute[], r: { to: string; via: string }) => routes.some((x) => x.to === r.to && x.via === r.via);

function liveRoutes(routes: RouteWork[], facts: NetworkFacts): PlanPart {
  const part = emptyPart();
  for (const r of routes) {
    if (hasRoute(facts.routes, r)) part.found.push(`route ${r.to} via ${r.via} live`);
    else part.actions.push(command(['ip', 'route', 'replace', r.to, 'via', r.via, 'dev', r.device], `route ${r.to} via ${r.via} (${r.device})`));
  }
  return part;
}

function switchStages(nic: NicWork, old: LiveAddress, facts: NetworkFacts): SwitchStages {
  const next = formatCidr(nic.address);
  const live = facts.addresses.some((a) => a.device === nic.device && sameCidr(a, nic.address));
  const persist = persistence([{ ...nic, connected: false }], facts);
  const defaults = nic.gateway ? [{ to: 'default', via: nic.gateway, device: nic.device }] : [];
  const oldDefault = facts.routes.find((r) => r.to === 'default');
  return {
    addNew: live
      ? { ...emptyPart(), found: [`${nic.device}: ${next} already live`] }
      : { ...emptyPart(), actions: [command(['ip', 'addr', 'add', next, 'dev', nic.device], `${nic.device}: ${next} added next to ${formatCidr(old)}`)] },
    removeNew: { ...emptyPart(), actions: [command(['ip', 'addr', 'del', next, 'dev', nic.device], `${nic.device}: ${next} removed again (it did not answer)`)] },
    persistAndRemoveOld: mergeParts([
      persist,
      { ...emptyPart(), actions: old.dynamic ? [stopDhcp(nic.device)] : [] },
      liveRoutes([...defaults, ...nic.routes], facts),
      {
        ...emptyPart(),
        actions: [
          // Deleting an interface's primary address deletes its secondaries in the same subnet too
          // (the new one the worker is connected through) unless the kernel promotes them.
          command(['sysctl', '-w', `net.ipv4.conf.${nic.device}.promote_secondaries=1`], `${nic.device}: secondary addresses promoted when the primary goes`),
          command(['ip', 'addr', 'del', formatCidr(old), 'dev', nic.device], `${nic.device}: ${formatCidr(old)} removed (the worker uses ${nic.address.address} now)`),
        ],
      },
    ]),
    restoreOld: [
      ...persist.actions.flatMap((a) => (a.kind === 'file' ? [restoreFileStep(a.path, existing(facts, a.path))] : [])),
      sh`ip addr replace ${formatCidr(old)} dev ${nic.device}`,
      ...(oldDefault ? [sh`ip route replace default via ${oldDefault.via} dev ${nic.device}`] : []),
      sh`ip addr del ${next} dev ${nic.device}`,
    ],
  };
}

const existing = (facts: NetworkFacts, path: string) => {
  const f = facts.linux!.ifupdown.files.find((x) => x.path === path);
  return f?.exists ? f.content : undefined;
};

export const ifupdownStyle: NetworkStyle = {
  name: 'ifupdown',
  configureNics: (nics, facts) => mergeParts([persistence(nics, facts), ...nics.map((n) => liveAddresses(n, facts))]),
  configureRoutes: liveRoutes,
  switchStages,
};
