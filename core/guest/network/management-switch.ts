/**
 * switchManagementAddress's plan: the VM answers at `reachAt` (its installer's or DHCP's address)
 * and must end at its management NIC's spec address, without ever leaving the worker with no
 * address that answers. The activity runs the stages in order:
 *
 *   (a) `addNew`, over the current connection: the new address next to the old one (live);
 *   (b) it opens an SSH session to `verifyAt`, checking the pinned host key;
 *   (d) if (b) fails: `revert`, over the current connection: the new address goes again, the
 *       persistent configuration was never touched;
 *   (c) if (b) works: over the new session, `guard.start` (detached), then `persistAndRemoveOld`:
 *       the new address, its gateway and routes made persistent, then the old address removed;
 *       then a fresh session to `verifyAt` and `guard.cancel`.
 *
 * The invariant: at every moment at least one address the worker knows answers. Before (a) the
 * old one does; from (a) to (c) both do; (d) removes only the new one, which did not answer. (c)
 * runs over the new address, so removing the old one cannot cut it; if anything in (c) cuts the new
 * one too (a route, a firewall), nobody cancels the guard, and after `guard.seconds` it restores
 * the old configuration, live and persistent, so the old address answers again. `guard.cancel`
 * exiting non-zero means the guard already fired: the VM is back at the old address.
 */
import type { NetworkSpec, StepReport } from '../../configure/shared';
import { NetworkPlanError } from './errors';
import type { NetworkFacts } from './facts';
import { formatCidr } from './ipv4';
import { connectedInterface, mapNics } from './nic-mapping';
import { nicWork, routeWork } from './plan-network';
import type { PlannedAction, TimedRevert } from './plan';
import type { NetworkProfile } from './profiles';
import { REVERT_SECONDS, revertFlag, timedRevert } from './timed-revert';

/** `needed: false`: the worker already reaches the management NIC at its spec address. */
export type ManagementSwitchPlan = { needed: false; report: StepReport } | ManagementSwitch;

export interface ManagementSwitch {
  needed: true;
  device: string;
  from: string;
  to: string;
  /** (a) over the current connection. */
  addNew: PlannedAction[];
  /** (b) the address to open a new session to (pinned host key) before (c). */
  verifyAt: string;
  /** (d) over the current connection, when (b) fails. */
  revert: PlannedAction[];
  /** Started over the new session right before (c); cancelled once the new address answers after it. */
  guard: TimedRevert;
  /** (c) over the new session. */
  persistAndRemoveOld: PlannedAction[];
  /** All stages' changes, in order ((d) only as a warning: it runs only when (b) fails). */
  report: StepReport;
}

export function planManagementSwitch(
  spec: NetworkSpec,
  facts: NetworkFacts,
  connectedAddress: string,
  profile: NetworkProfile,
  revertSeconds = REVERT_SECONDS,
): ManagementSwitchPlan {
  const assignments = mapNics(spec, facts, connectedAddress);
  const management = assignments.find((a) => a.spec.role === 'management')!;
  const to = formatCidr(management.address);
  if (management.address.address === connectedAddress) {
    return { needed: false, report: { found: [`${management.device}: the worker reaches it at ${to} already`], changed: [], warnings: [] } };
  }
  const style = profile.style(facts);
  const old = connectedInterface(facts, connectedAddress);
  const nic = nicWork(management, routeWork(spec, assignments));
  if (style.servicesPass?.(facts, [nic], old)) {
    throw new NetworkPlanError('UnsupportedNetworkSetup', 'network/physical:default is not running yet: configureNetwork switches to it first');
  }
  const taken = facts.addresses.find((a) => a.address === management.address.address && a.device !== management.device);
  if (taken) throw new NetworkPlanError('BadNetworkSpec', `${to} is already on ${taken.device}: the management address must be free`);
  const stages = style.switchStages(nic, old, facts);
  const from = formatCidr(old);
  const guard = timedRevert({ flag: revertFlag('management-switch'), seconds: revertSeconds, revert: stages.restoreOld, what: `the management switch ${from} → ${to}` });
  return {
    needed: true,
    device: management.device,
    from,
    to,
    addNew: stages.addNew.actions,
    verifyAt: management.address.address,
    revert: stages.removeNew.actions,
    guard,
    persistAndRemoveOld: stages.persistAndRemoveOld.actions,
    report: {
      found: [...stages.addNew.found, ...stages.persistAndRemoveOld.found],
      changed: [...stages.addNew.actions, guard.start, ...stages.persistAndRemoveOld.actions, guard.cancel].map((a) => a.change),
      warnings: [...stages.addNew.warnings, ...stages.persistAndRemoveOld.warnings],
    },
  };
}
