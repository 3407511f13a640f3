// VirtualMachine: create (through its folder), reconfigure, power, destroy.
import { CreateVM_Task, Destroy_Task, PowerOffVM_Task, PowerOnVM_Task, ReconfigVM_Task } from '../vim25/methods';
import type { ManagedObjectReference, VirtualMachineConfigSpec } from '../vim25/types';
import type { Client } from './client';
import { findOne, listEntities } from './finder';
import { retrieveOne, waitForProperties, type Properties, type PropertyWaitOptions, type WaitResult } from './property-collector';
import { Task } from './task';

export class VirtualMachine {
  constructor(
    readonly client: Client,
    readonly ref: ManagedObjectReference,
  ) {}

  static async find(client: Client, name: string): Promise<VirtualMachine> {
    return new VirtualMachine(client, (await findOne(client, 'VirtualMachine', name)).ref);
  }

  properties(pathSet: string[]): Promise<Properties> {
    return retrieveOne(this.client, this.ref, pathSet);
  }

  /** Waits for the VM's properties to satisfy `isDone` (power state, `guest.ipAddress`, `guest.net`). */
  waitFor(pathSet: string[], isDone: (properties: Properties) => boolean, options?: PropertyWaitOptions): Promise<WaitResult> {
    return waitForProperties(this.client, this.ref, pathSet, isDone, options);
  }

  async reconfigure(spec: VirtualMachineConfigSpec): Promise<Task> {
    return new Task(this.client, await ReconfigVM_Task(this.client, { _this: this.ref, spec }));
  }

  async powerOn(host?: ManagedObjectReference): Promise<Task> {
    return new Task(this.client, await PowerOnVM_Task(this.client, { _this: this.ref, host }));
  }

  async powerOff(): Promise<Task> {
    return new Task(this.client, await PowerOffVM_Task(this.client, { _this: this.ref }));
  }

  async destroy(): Promise<Task> {
    return new Task(this.client, await Destroy_Task(this.client, { _this: this.ref }));
  }
}

/** CreateVM_Task in `folder` (a datacenter's vmFolder) on `pool`; the task's result is the new VM. */
export async function createVm(
  client: Client,
  folder: ManagedObjectReference,
  config: VirtualMachineConfigSpec,
  pool: ManagedObjectReference,
  host?: ManagedObjectReference,
): Promise<Task> {
  return new Task(client, await CreateVM_Task(client, { _this: folder, config, pool, host }));
}

/** The vmFolder of the datacenter named `datacenter` (an ESXi host has one: `ha-datacenter`). */
export async function vmFolder(client: Client, datacenter?: string): Promise<ManagedObjectReference> {
  const found = datacenter === undefined ? await onlyDatacenter(client) : (await findOne(client, 'Datacenter', datacenter)).ref;
  return (await retrieveOne(client, found, ['vmFolder'])).vmFolder as ManagedObjectReference;
}

async function onlyDatacenter(client: Client): Promise<ManagedObjectReference> {
  const all = await listEntities(client, 'Datacenter');
  if (all.length !== 1) throw new Error(`${all.length} datacenters: name the one to use`);
  return all[0].ref;
}
