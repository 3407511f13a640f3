/**
 * What differs between the ways a guest keeps its network (ifupdown, ipadm, the legacy illumos
 * files): small builders the planners call. The planners decide what to touch (not the connected
 * interface, routes only through NICs being configured); a style says how, live and persistent.
 */
import type { NicRole } from '../../configure/shared';
import { modeBits } from '../../files';
import type { ShellScript } from '../../quote';
import type { FileText, LiveAddress, NetworkFacts, NetworkStyleName } from './facts';
import type { Cidr } from './ipv4';
import type { PlanPart, TimedRevert } from './plan';

export interface RouteWork {
  /** `default` or a network CIDR. */
  to: string;
  via: string;
  device: string;
}

export interface NicWork {
  device: string;
  role: NicRole;
  address: Cidr;
  gateway?: string;
  /** The spec's routes through this NIC's network (not the default route). */
  routes: RouteWork[];
  /** The worker's connection runs through it: only its persistence may change (its live address already is the spec's). */
  connected: boolean;
}

/** The management switch's stages for one style (management-switch.ts orders and guards them). */
export interface SwitchStages {
  /** (a) the new address next to the old one, live. */
  addNew: PlanPart;
  /** (d) undo (a) when the new address does not answer. */
  removeNew: PlanPart;
  /** (c) persistence for the new address (and its gateway and routes), then the old address gone. */
  persistAndRemoveOld: PlanPart;
  /** Shell steps that bring the old configuration back (live and persistent), for the timed revert. */
  restoreOld: ShellScript[];
}

export interface NetworkStyle {
  name: NetworkStyleName;
  /**
   * A pass that must run before anything else, alone, guarded by a timed revert (illumos: the
   * network/physical:default service takes over from nwam), or undefined when none is needed.
   */
  servicesPass?(facts: NetworkFacts, nics: NicWork[], connected: LiveAddress): { part: PlanPart; guard: TimedRevert } | undefined;
  /** Live and persistent addresses of these NICs (connected ones: persistence only). */
  configureNics(nics: NicWork[], facts: NetworkFacts): PlanPart;
  /** The default route and static routes, live (and persistent where the style keeps routes apart from the NICs). */
  configureRoutes(routes: RouteWork[], facts: NetworkFacts): PlanPart;
  switchStages(nic: NicWork, old: LiveAddress, facts: NetworkFacts): SwitchStages;
}

/** A file as the transport writes it: the existing owner and mode are kept, new files get root's and `mode`. */
export function fileSpecFor(current: FileText | undefined, mode = '644') {
  const uid = current?.exists && current.uid !== undefined ? current.uid : 0;
  const gid = current?.exists && current.gid !== undefined ? current.gid : 0;
  const bits = current?.exists ? modeBits(current.mode) : undefined;
  return { owner: `${uid}:${gid}`, uid, mode: bits === undefined ? mode : bits.toString(8).padStart(3, '0'), dirMode: '755' };
}
