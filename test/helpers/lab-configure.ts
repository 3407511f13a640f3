/**
 * configureStorage from the lab's own inventory on every lab host, as the demo and an operator run
 * it: the pools with their log and cache, the datasets and shares, and eth1 on the storage bridge,
 * so that replication between lab hosts runs over the storage network as the runbook has it.
 */
import type { ConfigureStorageResult } from '../../core/configure/shared';
import { configureStorageInput } from '../../inventory/configure';
import { requireInventory } from '../../inventory/load';
import { storageVms } from '../../inventory/targets';
import type { LabState } from '../../lab/lab';
import { configureStorage } from '../../workflows';
import type { TestTemporal } from './temporal';

export const configureWorkflowId = (host: string) => `configure-storage/${host}/${process.pid}`;

/** Runs configureStorage for every storage VM of the lab at once, under one worker. */
export async function configureLab(temporal: TestTemporal, lab: LabState): Promise<ConfigureStorageResult[]> {
  const inventory = requireInventory(lab.inventoryFile);
  const inputs = storageVms(inventory).map((vm) => configureStorageInput(inventory, vm.name));
  const handles = await Promise.all(inputs.map((input) => temporal.client.workflow.start(configureStorage, {
    args: [input],
    taskQueue: temporal.taskQueue,
    workflowId: configureWorkflowId(input.host.name),
  })));
  return temporal.withWorker(() => Promise.all(handles.map((h) => h.result())));
}
