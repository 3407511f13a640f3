/**
 * configureNetwork's plan: the NICs' addresses, the gateway and the static routes, live and
 * persistent, for everything except the address the worker is connected through. The management
 * NIC is configured here only when the worker already reaches it at the spec's address (its
 * persistence, its gateway and routes); otherwise it is left, with its gateway and routes, to the
 * management switch (management-switch.ts). Reads first, plans only what differs.
 */
import type { NetworkSpec, StepReport } from '../../configure/shared';
import { shown } from '../../show';
import { NetworkPlanError } from './errors';
import type { NetworkFacts } from './facts';
import { formatCidr, inSubnet, networkOf, parseCidr } from './ipv4';
import { connectedInterface, mapNics, type NicAssignment } from './nic-mapping';
import { mergeParts, reportOf, type PlannedAction, type TimedRevert } from './plan';
import type { NetworkProfile } from './profiles';
import type { NicWork, RouteWork } from './style';

export interface NetworkPlan {
  /** In order: write the file, or run the command (a non-zero exit is a failure). */
  actions: PlannedAction[];
  report: StepReport;
  /**
   * Run after the actions (illumos: network/physical:default taking over). Start it, wait until
   * the guest answers again at the same address, run `cancel`; then read the facts again.
   */
  guard?: TimedRevert;
  /** The plan changed what configures the network: read the facts again and plan once more. */
  replan: boolean;
}

/** The routes of the spec, each on the NIC whose network holds its gateway; the default route from the NIC that has a gateway. */
export function routeWork(spec: NetworkSpec, nics: NicAssignment[]): RouteWork[] {
  const routes: RouteWork[] = nics.filter((n) => n.spec.gateway).map((n) => ({ to: 'default', via: n.spec.gateway!, device: n.device }));
  for (const r of spec.routes) {
    const to = parseCidr(r.to);
    if (!to) throw new NetworkPlanError('BadNetworkSpec', `route to ${shown(r.to)} is not an IPv4 network with a prefix length (10.2.0.0/16)`);
    const nic = nics.find((n) => inSubnet(r.via, n.address));
    if (!nic) throw new NetworkPlanError('UnreachableGateway', `the route to ${shown(r.to)} goes via ${shown(r.via)}, which is on none of the NICs' networks`);
    const dest = to.prefix === 0 ? 'default' : formatCidr(networkOf(to));
    if (dest === 'default' && routes.some((x) => x.to === 'default')) {
      throw new NetworkPlanError('BadNetworkSpec', `two default routes: a NIC's gateway and the route to ${shown(r.to)}`);
    }
    routes.push({ to: dest, via: r.via, device: nic.device });
  }
  return routes;
}

export const nicWork = (n: NicAssignment, routes: RouteWork[]): NicWork => ({
  device: n.device,
  role: n.spec.role,
  address: n.address,
  ...(n.spec.gateway ? { gateway: n.spec.gateway } : {}),
  routes: routes.filter((r) => r.device === n.device && r.to !== 'default'),
  connected: n.connected,
});

export function planNetwork(spec: NetworkSpec, facts: NetworkFacts, connectedAddress: string, profile: NetworkProfile): NetworkPlan {
  const assignments = mapNics(spec, facts, connectedAddress);
  const connected = connectedInterface(facts, connectedAddress);
  const routes = routeWork(spec, assignments);
  const nics = assignments.map((a) => nicWork(a, routes));
  const style = profile.style(facts);

  const services = style.servicesPass?.(facts, nics, connected);
  if (services) {
    const report = reportOf(services.part);
    report.changed.push(services.guard.start.change, services.guard.cancel.change);
    return { actions: services.part.actions, report, guard: services.guard, replan: true };
  }

  // The connected NIC not yet at its spec address is the management switch's, with its routes.
  const deferred = nics.find((n) => n.connected && n.address.address !== connectedAddress);
  const now = nics.filter((n) => n !== deferred);
  const part = mergeParts([
    style.configureNics(now, facts),
    style.configureRoutes(routes.filter((r) => r.device !== deferred?.device), facts),
  ]);
  const atSpec = nics.find((n) => n.connected && n !== deferred);
  if (atSpec && connected.prefix !== atSpec.address.prefix) {
    part.warnings.push(`${atSpec.device}: the worker's address has prefix /${connected.prefix} live, the spec /${atSpec.address.prefix}: the spec's applies from the next boot`);
  }
  if (deferred) {
    part.found.unshift(
      `${deferred.device}: ${formatCidr(deferred.address)}${deferred.gateway ? ` (gateway ${deferred.gateway})` : ''} is set by switchManagementAddress: the worker is connected through ${formatCidr(connected)} now`,
    );
  }
  if (!routes.some((r) => r.to === 'default')) {
    for (const r of facts.routes.filter((x) => x.to === 'default')) part.found.push(`default route via ${r.via} left as it is (no NIC of the spec has a gateway)`);
  }
  return { actions: part.actions, report: reportOf(part), replan: false };
}
