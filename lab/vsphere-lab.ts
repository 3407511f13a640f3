/**
 * The lab with its vSphere: the simulator (lab/vsphere.ts) for a running lab, one ESXi host vh<j+1>
 * per lab host, whose storage VM is that lab host. The VMs do not exist yet, so every lab host's
 * sshd is stopped (the simulator's hook starts it when provisioning powers the VM on). The lab's
 * inventory is rewritten with the endpoint, the X1 on every host, a boot disk and each share as a
 * datastore. The simulator runs detached in <lab>/vsphere until labVsphereDown (or lab down).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { inventoryYaml, withVsphere } from './inventory';
import type { LabState } from './state';
import { isAlive, processExe, terminate } from './sys';
import { labHook, runHook } from './vsphere-hook';
import { startVsphereSim, VCSIM_BINARY, type VsphereSim, type VsphereSimState } from './vsphere';

/** The variable the lab's inventory names for the simulator's password (written to <lab>/vsphere/password). */
export const LAB_VSPHERE_PASSWORD_ENV = 'ESXI_ZFS_LAB_VSPHERE_PASSWORD';
export const labVsphereDir = (labDir: string) => path.join(labDir, 'vsphere');
/** The lab's ESXi host j: its name and its (model-only) management address. */
export const esxiHostName = (j: number) => `vh${j + 1}`;

export interface LabVsphereOptions {
  /** How long each simulated reboot lasts (default 5 s). */
  rebootSeconds?: number;
  /** The inventory's rebootTimeout (default 5m). */
  rebootTimeout?: string;
  /** Every share mounted on every ESXi host, as the runbook does (default: each on its own host). */
  mountEverywhere?: boolean;
}

export async function labVsphereUp(lab: LabState, opts: LabVsphereOptions = {}): Promise<VsphereSim> {
  await labVsphereDown(lab.dir);
  const sim = await startVsphereSim({
    dir: labVsphereDir(lab.dir),
    hosts: lab.hosts.map((h, j) => ({
      name: esxiHostName(j),
      address: `10.213.${lab.index}.${101 + j}`,
      rebootSeconds: opts.rebootSeconds ?? 5,
      storageVm: { name: h.name, labHost: h.name, address: h.address, storageAddress: h.storageAddress },
    })),
    ...labHook(lab.dir),
  });
  try {
    for (const h of lab.hosts) await runHook(lab.dir, 'vm-off', [h.name, h.name]);
    const inventory = withVsphere(YAML.parse(fs.readFileSync(lab.inventoryFile, 'utf8')), {
      url: sim.url, thumbprint: sim.thumbprint, user: sim.username, passwordEnv: LAB_VSPHERE_PASSWORD_ENV, rebootTimeout: opts.rebootTimeout ?? '5m', mountEverywhere: opts.mountEverywhere ?? false,
    });
    fs.writeFileSync(lab.inventoryFile, inventoryYaml(inventory, ` The lab in ${lab.dir} with its vSphere simulator (${sim.url}), written by lab/vsphere-lab.ts: edits are overwritten.\n The worker needs ${LAB_VSPHERE_PASSWORD_ENV} set to the contents of ${path.join(labVsphereDir(lab.dir), 'password')}.`));
  } catch (error) {
    await sim.stop();
    throw error;
  }
  return sim;
}

/** Stops the lab's simulator, found by the pid in its state file (only when that pid still runs the simulator). */
export async function labVsphereDown(labDir: string): Promise<void> {
  const stateFile = path.join(labVsphereDir(labDir), 'state.json');
  let state: VsphereSimState;
  try {
    state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as VsphereSimState;
  } catch {
    return;
  }
  if (isAlive(state.pid) && processExe(state.pid) === VCSIM_BINARY) {
    const left = await terminate([state.pid], 5000);
    if (left.length > 0) throw new Error(`the lab's vSphere simulator (pid ${state.pid}) would not stop`);
  }
  fs.rmSync(stateFile, { force: true });
}
