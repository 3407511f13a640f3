/**
 * enablePassthrough's activities: each reads the host first, changes only what differs and says
 * what it found and changed. The reboot is asked only while the host still has the bootTime the
 * workflow read before it (a retry never reboots twice); the wait rides out an endpoint that is
 * down (a host managed directly is its own endpoint) and heartbeats throughout.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failure } from '../../core/failures';
import type { StepReport } from '../../core/configure/shared';
import type {
  EsxiHostRef, HostRebootState, PassthroughActivities, PassthroughDevice, PciDeviceSelector, RunningVmPolicy,
} from '../../core/passthrough/shared';
import { startHeartbeat } from '../heartbeat';
import { HostSystem, retrieveOne, TaskError, toUnsignedId, VirtualMachine, type HostPciDevice, type HostPciPassthruInfo, type ManagedObjectReference } from './index';
import type { VsphereSessions } from './sessions';

/** A task such as entering maintenance mode: minutes at worst. */
const TASK_WAIT_SECONDS = 30 * 60;
/** RebootHost_Task ends when the reboot has begun: seconds. */
const REBOOT_TASK_SECONDS = 120;

const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
const iso = (t: unknown) => (t instanceof Date ? t.toISOString() : String(t ?? ''));
const report = (found: string[], changed: string[] = [], warnings: string[] = []): StepReport => ({ found, changed, warnings });

/** Whether the device is the one the selector names (ids compared as numbers: `0x19E3` is `0x19e3`). */
export function matchesSelector(device: HostPciDevice, selector: PciDeviceSelector): boolean {
  const id = (text: string | undefined) => (text === undefined ? undefined : parseInt(text, 16));
  if (selector.address !== undefined && device.id.toLowerCase() !== selector.address.toLowerCase()) return false;
  if (selector.vendorId !== undefined && toUnsignedId(device.vendorId) !== id(selector.vendorId)) return false;
  if (selector.deviceId !== undefined && toUnsignedId(device.deviceId) !== id(selector.deviceId)) return false;
  // classId is the class and subclass (0x0100: a SCSI mass storage controller).
  if (selector.classId !== undefined && toUnsignedId(device.classId) !== id(selector.classId)) return false;
  return true;
}

export const describeDevice = (d: HostPciDevice) =>
  `${d.id} ${hex(toUnsignedId(d.vendorId))}:${hex(toUnsignedId(d.deviceId))} class ${hex(toUnsignedId(d.classId))} (${d.vendorName} ${d.deviceName})`;

export function createPassthroughActivities(deps: { sessions: VsphereSessions }): PassthroughActivities {
  const { sessions } = deps;
  const hostSystem = async (ref: EsxiHostRef) => HostSystem.find(await sessions.session(ref.vsphere), ref.name);

  async function readDevice(ref: EsxiHostRef, selector: PciDeviceSelector): Promise<PassthroughDevice> {
    const host = await hostSystem(ref);
    const p = await host.properties(['hardware.pciDevice', 'config.pciPassthruInfo', 'runtime.bootTime']);
    const devices = (p['hardware.pciDevice'] ?? []) as HostPciDevice[];
    const infos = (p['config.pciPassthruInfo'] ?? []) as HostPciPassthruInfo[];
    const matching = devices.filter((d) => matchesSelector(d, selector));
    const capable = devices.filter((d) => infos.find((i) => i.id === d.id)?.passthruCapable);
    const wanted = JSON.stringify(selector);
    if (matching.length !== 1) {
      const listed = (matching.length === 0 ? capable : matching).map(describeDevice).join('; ') || 'none';
      throw ApplicationFailure.nonRetryable(
        matching.length === 0
          ? `${ref.name}: no PCI device matches ${wanted}; the passthrough-capable ones: ${listed}`
          : `${ref.name}: ${matching.length} PCI devices match ${wanted}: ${listed}; name one by its address`,
        Failure.PassthroughDevice,
      );
    }
    const device = matching[0]!;
    const info = infos.find((i) => i.id === device.id);
    if (!info?.passthruCapable) {
      throw ApplicationFailure.nonRetryable(`${ref.name}: ${describeDevice(device)} is not passthrough capable (VT-d/IOMMU off in the BIOS, or a device ESXi keeps)`, Failure.PassthroughDevice);
    }
    return {
      id: device.id,
      description: `${device.vendorName} ${device.deviceName}`.trim(),
      passthruEnabled: info.passthruEnabled,
      passthruActive: info.passthruActive,
      bootTime: iso(p['runtime.bootTime']),
    };
  }

  async function runningVms(host: HostSystem): Promise<{ name: string; vm: VirtualMachine }[]> {
    const vms = ((await host.properties(['vm'])).vm ?? []) as ManagedObjectReference[];
    const states = await Promise.all(vms.map(async (ref) => ({ ref, p: await retrieveOne(host.client, ref, ['name', 'runtime.powerState']) })));
    return states.filter((s) => s.p['runtime.powerState'] === 'poweredOn').map((s) => ({ name: String(s.p.name), vm: new VirtualMachine(host.client, s.ref) }));
  }

  return {
    async findPassthroughDevice(ref, selector) {
      const device = await readDevice(ref, selector);
      return { device, report: report([`${device.id} ${device.description}: passthruEnabled ${device.passthruEnabled}, passthruActive ${device.passthruActive} (booted ${device.bootTime})`]) };
    },

    async updatePassthruConfig(ref, deviceId) {
      const device = await readDevice(ref, { address: deviceId });
      if (device.passthruEnabled) return report([`${deviceId}: passthruEnabled already (active after the next boot)`]);
      await (await (await hostSystem(ref)).pciPassthruSystem()).updatePassthruConfig([{ id: deviceId, passthruEnabled: true }]);
      return report([], [`${deviceId}: passthruEnabled (UpdatePassthruConfig)`]);
    },

    async enterMaintenanceMode(ref, policy: RunningVmPolicy) {
      const host = await hostSystem(ref);
      if ((await host.properties(['runtime.inMaintenanceMode']))['runtime.inMaintenanceMode'] === true) return report([`${ref.name} in maintenance mode already`]);
      const running = await runningVms(host);
      const changed: string[] = [];
      if (running.length > 0 && policy === 'refuse') {
        throw ApplicationFailure.nonRetryable(
          `${ref.name} runs ${running.map((vm) => vm.name).join(', ')}: move or stop them, or set passthrough.runningVms: powerOff, then run again`,
          Failure.VmsRunning,
        );
      }
      for (const { name, vm } of running) {
        await (await vm.powerOff()).wait({ maxWaitSeconds: TASK_WAIT_SECONDS });
        changed.push(`${name} powered off`);
      }
      const beat = startHeartbeat({ step: 'enterMaintenanceMode' });
      try {
        await (await host.enterMaintenanceMode(0)).wait({ maxWaitSeconds: TASK_WAIT_SECONDS });
      } finally {
        beat.stop();
      }
      changed.push(`${ref.name} entered maintenance mode`);
      return report([], changed);
    },

    async rebootHost(ref, bootTimeBefore) {
      const host = await hostSystem(ref);
      const p = await host.properties(['runtime.connectionState', 'runtime.bootTime', 'runtime.inMaintenanceMode']);
      const bootTime = iso(p['runtime.bootTime']);
      if (bootTime !== bootTimeBefore) return report([`${ref.name} booted at ${bootTime} already (after ${bootTimeBefore}): not rebooted again`]);
      if (p['runtime.connectionState'] !== 'connected') return report([`${ref.name} is ${String(p['runtime.connectionState'])}: rebooting already, not asked again`]);
      // Outside maintenance mode ESXi reboots only when forced: the inventory chose not to enter it.
      const force = p['runtime.inMaintenanceMode'] !== true;
      const task = await host.rebootHost(force);
      try {
        await task.wait({ maxWaitSeconds: REBOOT_TASK_SECONDS });
      } catch (error) {
        // A task that failed did not reboot the host: retried. One whose end cannot be read (the
        // host, when it is the endpoint, went down first) is left to the wait, which reads bootTime.
        if (error instanceof TaskError) throw new Error(`${ref.name}: RebootHost_Task failed: ${error.message}`, { cause: error });
      }
      return report([], [`RebootHost_Task on ${ref.name}${force ? ' (force: not in maintenance mode)' : ''}`]);
    },

    async waitForHostReboot(ref, wait): Promise<HostRebootState> {
      const beat = startHeartbeat({ step: 'waitForHostReboot' });
      const deadline = Date.now() + wait.maxWaitSeconds * 1000;
      const isBack = (p: Record<string, unknown>) => p['runtime.connectionState'] === 'connected' && iso(p['runtime.bootTime']) !== wait.bootTimeBefore;
      let connectionState = 'unknown';
      try {
        while (Date.now() < deadline) {
          try {
            const host = await hostSystem(ref);
            const left = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
            const { reached, properties } = await host.waitFor(['runtime.connectionState', 'runtime.bootTime'], isBack, {
              maxWaitSeconds: left, pollSeconds: 10, ...(beat.cancellation && { signal: beat.cancellation }),
            });
            connectionState = String(properties['runtime.connectionState'] ?? connectionState);
            if (reached) return { back: true, connectionState, bootTime: iso(properties['runtime.bootTime']) };
          } catch (error) {
            if (error instanceof ApplicationFailure || beat.cancellation?.aborted) throw error;
            // The endpoint is down or dropped us (the host itself, rebooting): not back yet.
            connectionState = `unreachable (${(error as Error).message.slice(0, 200)})`;
            await new Promise((resolve) => setTimeout(resolve, Math.min(5000, Math.max(0, deadline - Date.now()))));
          }
        }
        return { back: false, connectionState };
      } finally {
        beat.stop();
      }
    },

    async exitMaintenanceMode(ref) {
      const host = await hostSystem(ref);
      if ((await host.properties(['runtime.inMaintenanceMode']))['runtime.inMaintenanceMode'] !== true) return report([`${ref.name} not in maintenance mode`]);
      await (await host.exitMaintenanceMode(0)).wait({ maxWaitSeconds: TASK_WAIT_SECONDS });
      return report([], [`${ref.name} left maintenance mode`]);
    },
  };
}
