/**
 * The network steps of configureStorage: the NICs, routes and host name; /etc/hosts and DNS; and,
 * last, the management address when the VM answers elsewhere now. Plans come from
 * core/guest/network/ (pure, golden-tested); these activities read the guest, perform the planned
 * actions in order, and make the connection changes safe:
 *
 * - The address a session reached is the one the guest saw (`$SSH_CONNECTION`), never a name.
 * - A guarded change (a timed revert started detached) is cancelled only from a new session: if the
 *   change cut the guest off, nobody cancels, and the guest restores its old configuration itself.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failure } from '../../../core/failures';
import type { NetworkSpec, StepReport } from '../../../core/configure/shared';
import type { StorageHostRef } from '../../../core/hosts';
import {
  NetworkPlanError, nameFactsScript, networkProfiles, parseNameFacts, planManagementSwitch, planNameResolution, planNetwork,
  type NetworkFacts, type NetworkProfile, type PlannedAction, type TimedRevert,
} from '../../../core/guest/network';
import { parseCidr } from '../../../core/guest/network/ipv4';
import { revertFlag } from '../../../core/guest/network/timed-revert';
import { activityContext } from '../../context';
import type { Transport } from '../../transport';

const TIMEOUT_MS = 60_000;
/** How long a guest may take to answer again after a guarded change (illumos services restarting). */
const ANSWER_AGAIN_MS = 60_000;

/** A plan that cannot be made is the inventory's or the guest's mistake: not retried, said as it is. */
function planned<T>(host: StorageHostRef, plan: () => T): T {
  try {
    return plan();
  } catch (error) {
    if (!(error instanceof NetworkPlanError) || error.kind === 'FactsUnreadable') throw error;
    throw ApplicationFailure.nonRetryable(`${host.name}: ${error.kind}: ${error.message}`, Failure.NetworkConfig, error.kind);
  }
}

export function createNetworkActivities(deps: { transport: Transport }) {
  const { transport } = deps;
  const profileOf = (host: StorageHostRef): NetworkProfile => networkProfiles[host.os];

  async function facts(host: StorageHostRef): Promise<NetworkFacts> {
    const profile = profileOf(host);
    const out = (await transport.runOk(host, profile.factsScript, { timeoutMs: TIMEOUT_MS })).stdout;
    return planned(host, () => profile.parseFacts(out));
  }

  /** The address this session reached, as the guest sees it (the third field of SSH_CONNECTION). */
  async function connectedAddress(host: StorageHostRef): Promise<string> {
    const out = (await transport.runOk(host, ['sh', '-c', 'echo "$SSH_CONNECTION"'], { timeoutMs: TIMEOUT_MS })).stdout.trim().split(/\s+/);
    const address = out[2];
    if (!address || !/^\d+\.\d+\.\d+\.\d+$/.test(address)) throw new Error(`${host.name}: cannot tell which address the session reached (SSH_CONNECTION: ${out.join(' ').slice(0, 100)})`);
    return address;
  }

  /** A plan's file action means the facts showed other content: written without reading it again. */
  async function perform(host: StorageHostRef, actions: PlannedAction[]): Promise<void> {
    for (const action of actions) {
      if (action.kind === 'file') await transport.writeFile(host, action.path, action.content, action.spec);
      else await transport.runOk(host, action.argv, { timeoutMs: TIMEOUT_MS });
    }
  }

  /** Waits until a new session to `host` answers (the pinned host key is checked on every connect). */
  async function answersAgain(host: StorageHostRef, withinMs: number): Promise<boolean> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      await transport.disconnect(host);
      const r = await transport.run(host, ['true'], { timeoutMs: 10_000 }).catch(() => undefined);
      if (r?.code === 0) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  /**
   * Starts `guard` over `via` (its start may itself make the change), runs `change` over `via`, then
   * cancels the guard from a new session to `verifyAt`. False: the guest did not answer there in
   * time, or the guard had fired: the guest is back at its old configuration.
   */
  async function guarded(via: StorageHostRef, guard: TimedRevert, change: () => Promise<void>, verifyAt: StorageHostRef): Promise<boolean> {
    await transport.runOk(via, guard.start.argv, { timeoutMs: TIMEOUT_MS });
    await change();
    if (!(await answersAgain(verifyAt, Math.min(ANSWER_AGAIN_MS, (guard.seconds * 1000) / 2)))) return false;
    return (await transport.run(verifyAt, guard.cancel.argv, { timeoutMs: TIMEOUT_MS })).code === 0;
  }

  /**
   * A retry after the worker died in stage (c) of a switch: the old address may be gone, the guard
   * still pending. When the VM no longer answers at `host.address` but does at its management
   * address, and the old address is no longer on the guest, (c) ran to its last action (removing
   * the old address) and only the guard's cancel is left. A guard that fired already is bringing
   * the old address back: retried from there. Undefined: nothing to resume, the usual path runs.
   */
  async function resumeSwitch(host: StorageHostRef, network: NetworkSpec): Promise<StepReport | undefined> {
    const management = parseCidr(network.nics.find((n) => n.role === 'management')?.address ?? '');
    if (!management || management.address === host.address || (await answersAgain(host, 0))) return undefined;
    const next: StorageHostRef = { ...host, address: management.address };
    if (!(await answersAgain(next, 0))) return undefined;
    if ((await facts(next)).addresses.some((a) => a.address === host.address)) return undefined;
    const flag = revertFlag('management-switch');
    const found = [`${next.address} answers and ${host.address} is gone: the switch of an earlier attempt ran to its end`];
    if ((await transport.run(next, ['rm', flag], { timeoutMs: TIMEOUT_MS })).code === 0) {
      return { found, changed: [`cancelled the timed revert the earlier attempt left (${flag})`], warnings: [] };
    }
    if ((await transport.run(next, ['test', '-e', `${flag}.fired`], { timeoutMs: TIMEOUT_MS })).code === 0) {
      throw new Error(`${host.name}: the timed revert of an earlier attempt's switch fired: the VM goes back to ${host.address}, the switch is retried from there`);
    }
    return { found, changed: [], warnings: [] };
  }

  const add = (into: StepReport, from: StepReport) => {
    into.found.push(...from.found);
    into.changed.push(...from.changed);
    into.warnings.push(...from.warnings);
  };

  return {
    /** Addresses, gateway, routes and host name, persistent and live, on every NIC but the one the worker came in on. */
    async configureNetwork(host: StorageHostRef, network: NetworkSpec): Promise<StepReport> {
      const profile = profileOf(host);
      const [at, first] = await Promise.all([connectedAddress(host), facts(host)]);
      const report: StepReport = { found: [], changed: [], warnings: [] };
      // A first pass may hand the network to another service (illumos: nwam → physical:default,
      // guarded); the second plans on what that service shows.
      for (let pass = 0; pass < 2; pass++) {
        const current = pass === 0 ? first : await facts(host);
        const plan = planned(host, () => planNetwork(network, current, at, profile));
        await perform(host, plan.actions);
        add(report, plan.report);
        if (plan.guard && !(await guarded(host, plan.guard, async () => undefined, host))) {
          throw ApplicationFailure.nonRetryable(
            `${host.name}: the guest did not answer at ${host.address} after ${plan.guard.start.change}: it restores its old network configuration by itself within ${plan.guard.seconds} s`,
            Failure.NetworkConfig,
          );
        }
        if (!plan.replan) break;
      }
      return report;
    },

    /** /etc/hosts (the hypervisors' storage names, the other storage VMs), and DNS when the inventory gives servers. */
    async configureNameResolution(host: StorageHostRef, network: NetworkSpec): Promise<StepReport> {
      const profile = profileOf(host);
      const out = (await transport.runOk(host, nameFactsScript(profile), { timeoutMs: TIMEOUT_MS })).stdout;
      const current = planned(host, () => parseNameFacts(out, profile));
      const plan = planned(host, () => planNameResolution(network, current, profile));
      await perform(host, plan.actions);
      return plan.report;
    },

    /**
     * Last: the management NIC's address, when the VM answers elsewhere now (`host.address` is
     * where it answers; `managementAddress` where it must end). The stages and why the worker is
     * never left without an address that answers: core/guest/network/management-switch.ts.
     */
    async switchManagementAddress(host: StorageHostRef, input: { network: NetworkSpec }): Promise<StepReport> {
      const profile = profileOf(host);
      const resumed = (activityContext()?.info.attempt ?? 1) > 1 ? await resumeSwitch(host, input.network) : undefined;
      if (resumed) return resumed;
      const [at, current] = await Promise.all([connectedAddress(host), facts(host)]);
      const plan = planned(host, () => planManagementSwitch(input.network, current, at, profile));
      if (!plan.needed) return plan.report;
      const next: StorageHostRef = { ...host, address: plan.verifyAt };
      // (a) the new address next to the old; (b) a session to it, host key pinned.
      await perform(host, plan.addNew);
      if (!(await answersAgain(next, ANSWER_AGAIN_MS / 4))) {
        // (d) only the new address goes: the persistent configuration was never touched.
        await perform(host, plan.revert);
        throw ApplicationFailure.nonRetryable(
          `${host.name}: ${plan.to} on ${plan.device} did not answer SSH with the pinned host key: removed it again; the VM still answers at ${plan.from}. Check the management NIC's address, its port group and the worker's route to it`,
          Failure.ManagementSwitchFailed,
        );
      }
      // (c) over the new session, guarded: persistent, then the old address removed.
      if (!(await guarded(next, plan.guard, () => perform(next, plan.persistAndRemoveOld), next))) {
        throw ApplicationFailure.nonRetryable(
          `${host.name}: ${plan.to} stopped answering while it was made persistent: the guest restores ${plan.from} by itself within ${plan.guard.seconds} s`,
          Failure.ManagementSwitchFailed,
        );
      }
      await transport.disconnect(host);
      return plan.report;
    },
  };
}
