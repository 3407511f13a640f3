/**
 * illumos with ipadm (OmniOS, OpenIndiana): `ipadm create-if`, `ipadm create-addr -T static`
 * (live and persistent in one step), `ipadm delete-addr`; routes by `route -p` (illumos-routes.ts).
 */
import { sh } from '../../quote';
import { NetworkPlanError } from './errors';
import type { LiveAddress, NetworkFacts } from './facts';
import type { AddrObject } from './illumos-parse';
import { illumosRoutes } from './illumos-routes';
import { formatCidr, sameCidr } from './ipv4';
import { command, emptyPart, mergeParts, type PlanPart } from './plan';
import type { NetworkStyle, NicWork, SwitchStages } from './style';

/** The IPv4 address objects of a NIC (a DHCP one may have no address yet). */
const v4Objects = (facts: NetworkFacts, device: string): AddrObject[] =>
  facts.illumos!.addrObjects.filter((o) => o.device === device && (o.address !== undefined || o.type === 'dhcp'));

const isKept = (o: AddrObject, nic: NicWork) => o.type === 'static' && o.state === 'ok' && !o.temporary && o.address !== undefined && sameCidr(o.address, nic.address);

/** An address object name on `device` that is not taken: v4, then mgmt, mgmt2... */
function freeObjectName(facts: NetworkFacts, device: string): string {
  const taken = new Set(facts.illumos!.addrObjects.map((o) => o.handle));
  for (const name of ['v4', 'mgmt', ...Array.from({ length: 8 }, (_, i) => `mgmt${i + 2}`)]) if (!taken.has(`${device}/${name}`)) return `${device}/${name}`;
  throw new NetworkPlanError('UnsupportedNetworkSetup', `${device} has no free address object name left (v4, mgmt, mgmt2-9 are taken)`);
}

function configureNic(nic: NicWork, facts: NetworkFacts): PlanPart {
  const part = emptyPart();
  const objects = v4Objects(facts, nic.device);
  const kept = objects.find((o) => isKept(o, nic));
  const cidr = formatCidr(nic.address);
  if (nic.connected) {
    if (kept) part.found.push(`${nic.device}: ${cidr} (${kept.handle}) live and persistent`);
    else part.warnings.push(`${nic.device}: ${cidr} is not a persistent static address object (ipadm cannot convert one while the worker is connected through it): it may not come back after a reboot`);
    return part;
  }
  if (!facts.illumos!.ipInterfaces.includes(nic.device)) part.actions.push(command(['ipadm', 'create-if', nic.device], `${nic.device}: IP interface created`));
  for (const o of objects.filter((x) => x !== kept)) {
    part.actions.push(command(['ipadm', 'delete-addr', o.handle], `${nic.device}: ${o.handle} (${o.address ? formatCidr(o.address) : o.type}) removed`));
  }
  if (kept) part.found.push(`${nic.device}: ${cidr} (${kept.handle}) live and persistent`);
  else {
    const name = objects.some((o) => o.handle === `${nic.device}/v4`) ? `${nic.device}/v4` : freeObjectName(facts, nic.device);
    part.actions.push(command(['ipadm', 'create-addr', '-T', 'static', '-a', cidr, name], `${nic.device}: ${cidr} (${name}), live and persistent`));
  }
  return part;
}

function switchStages(nic: NicWork, old: LiveAddress, facts: NetworkFacts): SwitchStages {
  const next = formatCidr(nic.address);
  const existing = v4Objects(facts, nic.device).find((o) => o.address && sameCidr(o.address, nic.address));
  // ipadm cannot make a temporary address persistent later: the new one is persistent from (a) on,
  // and (d) deletes it whole, which leaves the old persistent configuration as it was.
  const name = existing?.handle ?? freeObjectName(facts, nic.device);
  const routes = illumosRoutes([...(nic.gateway ? [{ to: 'default', via: nic.gateway, device: nic.device }] : []), ...nic.routes], facts);
  const oldObject = v4Objects(facts, nic.device).find((o) => o.handle === old.handle);
  return {
    addNew: existing
      ? { ...emptyPart(), found: [`${nic.device}: ${next} (${name}) already there`] }
      : { ...emptyPart(), actions: [command(['ipadm', 'create-addr', '-T', 'static', '-a', next, name], `${nic.device}: ${next} (${name}) added next to ${formatCidr(old)}`)] },
    removeNew: { ...emptyPart(), actions: [command(['ipadm', 'delete-addr', name], `${nic.device}: ${next} (${name}) removed again (it did not answer)`)] },
    persistAndRemoveOld: mergeParts([
      routes.part,
      { ...emptyPart(), actions: [command(['ipadm', 'delete-addr', old.handle!], `${nic.device}: ${formatCidr(old)} (${old.handle}) removed (the worker uses ${nic.address.address} now)`)] },
    ]),
    restoreOld: [
      oldObject?.type === 'dhcp' ? sh`ipadm create-addr -T dhcp ${old.handle!}` : sh`ipadm create-addr -T static -a ${formatCidr(old)} ${old.handle!}`,
      ...routes.undo,
      sh`ipadm delete-addr ${name}`,
    ],
  };
}

export const ipadmStyle: NetworkStyle = {
  name: 'ipadm',
  servicesPass(facts) {
    if (facts.illumos!.services.nwam === 'online') {
      throw new NetworkPlanError(
        'UnsupportedNetworkSetup',
        'network/physical:nwam is online on an ipadm system: switch to network/physical:default from the console (svcadm disable network/physical:nwam; svcadm enable network/physical:default) and configure the management address there',
      );
    }
    return undefined;
  },
  configureNics: (nics, facts) => mergeParts(nics.map((n) => configureNic(n, facts))),
  configureRoutes: (routes, facts) => illumosRoutes(routes, facts).part,
  switchStages,
};
