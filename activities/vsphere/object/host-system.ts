// HostSystem: an ESXi host, its configuration managers, its reboot and maintenance mode.
import { EnterMaintenanceMode_Task, ExitMaintenanceMode_Task, QueryConfigTarget, RebootHost_Task } from '../vim25/methods';
import type { ConfigTarget, HostConfigManager, HostPciDevice, HostPciPassthruInfo, ManagedObjectReference } from '../vim25/types';
import type { Client } from './client';
import { findOne } from './finder';
import { HostAutoStartManager } from './host-auto-start-manager';
import { HostDatastoreSystem } from './host-datastore-system';
import { HostNetworkSystem } from './host-network-system';
import { HostPciPassthruSystem } from './host-pci-passthru-system';
import { HostStorageSystem } from './host-storage-system';
import { retrieveOne, waitForProperties, type Properties, type PropertyWaitOptions, type WaitResult } from './property-collector';
import { Task } from './task';

type ManagerName = 'pciPassthruSystem' | 'networkSystem' | 'datastoreSystem' | 'storageSystem' | 'autoStartManager';

export class HostSystem {
  constructor(
    readonly client: Client,
    readonly ref: ManagedObjectReference,
  ) {}

  static async find(client: Client, name: string): Promise<HostSystem> {
    return new HostSystem(client, (await findOne(client, 'HostSystem', name)).ref);
  }

  properties(pathSet: string[]): Promise<Properties> {
    return retrieveOne(this.client, this.ref, pathSet);
  }

  /** Waits for the host's properties to satisfy `isDone` (connection state, boot time, maintenance mode). */
  waitFor(pathSet: string[], isDone: (properties: Properties) => boolean, options?: PropertyWaitOptions): Promise<WaitResult> {
    return waitForProperties(this.client, this.ref, pathSet, isDone, options);
  }

  async configManager(): Promise<HostConfigManager> {
    return (await this.properties(['configManager'])).configManager as HostConfigManager;
  }

  async pciDevices(): Promise<HostPciDevice[]> {
    return ((await this.properties(['hardware.pciDevice']))['hardware.pciDevice'] ?? []) as HostPciDevice[];
  }

  async pciPassthruInfo(): Promise<HostPciPassthruInfo[]> {
    return ((await this.properties(['config.pciPassthruInfo']))['config.pciPassthruInfo'] ?? []) as HostPciPassthruInfo[];
  }

  async pciPassthruSystem(): Promise<HostPciPassthruSystem> {
    return new HostPciPassthruSystem(this.client, this.manager(await this.configManager(), 'pciPassthruSystem'));
  }

  async networkSystem(): Promise<HostNetworkSystem> {
    return new HostNetworkSystem(this.client, this.manager(await this.configManager(), 'networkSystem'));
  }

  async datastoreSystem(): Promise<HostDatastoreSystem> {
    return new HostDatastoreSystem(this.client, this.manager(await this.configManager(), 'datastoreSystem'));
  }

  async storageSystem(): Promise<HostStorageSystem> {
    return new HostStorageSystem(this.client, this.manager(await this.configManager(), 'storageSystem'));
  }

  async autoStartManager(): Promise<HostAutoStartManager> {
    return new HostAutoStartManager(this.client, this.manager(await this.configManager(), 'autoStartManager'));
  }

  /** The resource pool of the host's compute resource: where CreateVM_Task puts a VM for this host. */
  async resourcePool(): Promise<ManagedObjectReference> {
    return this.computeResourceProperty('resourcePool');
  }

  /** What this host offers a VM: its passthrough devices with the systemId a device backing needs. */
  async configTarget(): Promise<ConfigTarget> {
    const browser = await this.computeResourceProperty('environmentBrowser');
    const target = await QueryConfigTarget(this.client, { _this: browser, host: this.ref });
    if (!target) throw new Error(`host ${this.ref.value}: QueryConfigTarget returned nothing`);
    return target;
  }

  async rebootHost(force: boolean): Promise<Task> {
    return new Task(this.client, await RebootHost_Task(this.client, { _this: this.ref, force }));
  }

  /** `timeoutSeconds` 0: no limit on the server's side. */
  async enterMaintenanceMode(timeoutSeconds: number, evacuatePoweredOffVms?: boolean): Promise<Task> {
    return new Task(this.client, await EnterMaintenanceMode_Task(this.client, { _this: this.ref, timeout: timeoutSeconds, evacuatePoweredOffVms }));
  }

  async exitMaintenanceMode(timeoutSeconds: number): Promise<Task> {
    return new Task(this.client, await ExitMaintenanceMode_Task(this.client, { _this: this.ref, timeout: timeoutSeconds }));
  }

  private async computeResourceProperty(name: 'resourcePool' | 'environmentBrowser'): Promise<ManagedObjectReference> {
    const parent = (await this.properties(['parent'])).parent as ManagedObjectReference;
    const ref = (await retrieveOne(this.client, parent, [name]))[name] as ManagedObjectReference | undefined;
    if (!ref) throw new Error(`host ${this.ref.value}: its ${parent.type} ${parent.value} has no ${name}`);
    return ref;
  }

  private manager(managers: HostConfigManager, name: ManagerName): ManagedObjectReference {
    const ref = managers[name];
    if (!ref) throw new Error(`host ${this.ref.value} has no ${name}`);
    return ref;
  }
}
