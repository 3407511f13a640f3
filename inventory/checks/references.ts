/**
 * Names that must exist elsewhere or be unique: credentials, hosts, storage VMs, datastores,
 * datasets in their VM's pool, and replication targets that are a dataset of their own.
 */
import { shown, shownList } from '../../core/show';
import { arr, duplicates, type Finding, formatPath, obj, type Path, poolOf, str, type Raw, type VmEntry } from './raw';

/** `a` is `b` or one of its descendants. */
const within = (a: string, b: string): boolean => a === b || a.startsWith(`${b}/`);

function replicaTargetFindings(at: Path, self: VmEntry, target: Raw, vms: Map<string, VmEntry>, ownDatasets: Map<VmEntry, Set<string>>): Finding[] {
  const vmName = str(target.vm);
  const dataset = str(target.dataset);
  const targetVm = vmName === undefined ? undefined : vms.get(vmName);
  if (vmName !== undefined && !targetVm) {
    return [{ path: [...at, 'vm'], message: `${shown(vmName)} is not a storage VM of this inventory (${shownList([...vms.keys()])})` }];
  }
  if (targetVm === self) return [{ path: [...at, 'vm'], message: 'a dataset must replicate to another storage VM, not its own' }];
  if (!targetVm || dataset === undefined) return [];
  const where: Path = [...at, 'dataset'];
  if (targetVm.pool && poolOf(dataset) !== targetVm.pool) {
    return [{ path: where, message: `${shown(dataset)} is not in ${vmName}'s pool ${shown(targetVm.pool)}` }];
  }
  if (!dataset.includes('/')) {
    return [{ path: where, message: `${shown(dataset)} is ${vmName}'s pool itself: a replica is received into a dataset of its own (like ${dataset}/replicas/...)` }];
  }
  const own = ownDatasets.get(targetVm) ?? new Set();
  if (own.has(dataset)) {
    return [{ path: where, message: `${shown(dataset)} is one of ${vmName}'s own datasets; a replica needs a dataset of its own` }];
  }
  const covered = [...own].find((d) => within(d, dataset));
  if (covered) {
    return [{ path: where, message: `${shown(dataset)} holds ${vmName}'s own dataset ${shown(covered)}: receiving a replica there would replace it` }];
  }
  return [];
}

export function referenceFindings(root: Raw, vms: VmEntry[]): Finding[] {
  const findings: Finding[] = [];
  const credentials = new Set(Object.keys(obj(root.credentials) ?? {}));
  const hosts = arr(root.hosts).map((h) => str(obj(h)?.name));
  const hostNames = new Set(hosts.filter((h): h is string => h !== undefined));
  const vmByName = new Map(vms.filter((v) => v.name !== undefined).map((v) => [v.name!, v]));
  const ownDatasets = new Map(vms.map((v) => [v, new Set(arr(v.vm.datasets).map((d) => str(obj(d)?.name)).filter((d): d is string => d !== undefined))]));

  const credentialRef = (value: unknown, path: Path) => {
    const name = str(value);
    if (name !== undefined && !credentials.has(name)) {
      findings.push({ path, message: `credential ${shown(name)} is not defined under credentials (${shownList([...credentials])})` });
    }
  };
  credentialRef(obj(root.vsphere)?.credentials, ['vsphere', 'credentials']);
  const vsphereCredential = str(obj(root.vsphere)?.credentials);
  if (vsphereCredential !== undefined && credentials.has(vsphereCredential) && str(obj(obj(root.credentials)?.[vsphereCredential])?.passwordEnv) === undefined) {
    findings.push({ path: ['vsphere', 'credentials'], message: `credential ${shown(vsphereCredential)} names no passwordEnv: vSphere logs in with a user and a password` });
  }

  findings.push(...duplicates(hosts.map((value, i) => ({ value, path: ['hosts', i, 'name'] })), 'host name', true));
  findings.push(...duplicates(vms.map((v) => ({ value: v.name, path: [...v.path, 'name'] })), 'storage VM name', true));

  const replicaTargets: { vm: string; dataset: string; path: Path }[] = [];
  const datastores: { value?: string; path: Path }[] = [];
  for (const entry of vms) {
    const { path, vm, pool } = entry;
    credentialRef(obj(vm.ssh)?.credentials, [...path, 'ssh', 'credentials']);
    const datasets = arr(vm.datasets);
    findings.push(...duplicates(datasets.map((d, j) => ({ value: str(obj(d)?.name), path: [...path, 'datasets', j, 'name'] })), 'dataset'));
    datasets.forEach((d, j) => {
      const ds = obj(d);
      const at: Path = [...path, 'datasets', j];
      const name = str(ds?.name);
      if (name && pool && poolOf(name) !== pool) {
        findings.push({ path: [...at, 'name'], message: `dataset ${shown(name)} is not in this VM's pool ${shown(pool)}` });
      }
      const store = obj(ds?.datastore);
      datastores.push({ value: str(store?.name), path: [...at, 'datastore', 'name'] });
      arr(store?.mountOn).forEach((h, k) => {
        const host = str(h);
        if (host !== undefined && !hostNames.has(host)) {
          findings.push({ path: [...at, 'datastore', 'mountOn', k], message: `${shown(host)} is not an ESXi host of this inventory (${shownList([...hostNames])})` });
        }
      });
      const target = obj(ds?.replicateTo);
      if (!target) return;
      const problems = replicaTargetFindings([...at, 'replicateTo'], entry, target, vmByName, ownDatasets);
      findings.push(...problems);
      const targetVm = str(target.vm);
      const dataset = str(target.dataset);
      if (problems.length === 0 && targetVm && dataset) replicaTargets.push({ vm: targetVm, dataset, path: [...at, 'replicateTo', 'dataset'] });
    });
  }
  findings.push(...overlappingTargets(replicaTargets));
  findings.push(...shareClientFindings(root, vms));
  findings.push(...duplicates(datastores, 'datastore name', true));
  return findings;
}

/** Two replicas received into one dataset, or one inside the other: each receive would replace the other. */
function overlappingTargets(targets: { vm: string; dataset: string; path: Path }[]): Finding[] {
  const findings: Finding[] = [];
  const byVm = new Map<string, { dataset: string; path: Path }[]>();
  for (const t of targets) byVm.set(t.vm, [...(byVm.get(t.vm) ?? []), t]);
  for (const [vm, list] of byVm) {
    // Sorted component by component ('/' before any character), a dataset's descendants follow it
    // directly: a stack of open ancestors finds every overlap in one pass over large inventories.
    const key = (d: string) => d.replaceAll('/', '\u0000');
    const sorted = [...list].sort((a, b) => (key(a.dataset) < key(b.dataset) ? -1 : key(a.dataset) > key(b.dataset) ? 1 : 0));
    const open: { dataset: string; path: Path }[] = [];
    for (const t of sorted) {
      while (open.length > 0 && !within(t.dataset, open[open.length - 1]!.dataset)) open.pop();
      const holder = open[open.length - 1];
      if (holder) {
        findings.push({
          path: t.path,
          message: holder.dataset === t.dataset
            ? `duplicate replication target ${vm}:${shown(t.dataset)} (first at ${formatPath(holder.path)})`
            : `replication target ${vm}:${shown(t.dataset)} is inside another replica, ${shown(holder.dataset)} (at ${formatPath(holder.path)})`,
        });
      } else open.push(t);
    }
  }
  return findings;
}

/** The name storage VMs know an ESXi host by on the storage network (the runbook's vh1-nas). */
export const storageNameOf = (host: string, vmkernelHostName?: string): string => vmkernelHostName ?? `${host}-nas`;

/**
 * Every client a share names resolves on its storage VM: a host's storage name from this inventory
 * (written to the VM's /etc/hosts), or through the VM's DNS servers when it has some (checked on
 * the guest before the share is set).
 */
function shareClientFindings(root: Raw, vms: VmEntry[]): Finding[] {
  const storageNames: { value?: string; path: Path }[] = [];
  arr(root.hosts).forEach((h, i) => {
    const host = obj(h);
    const vmkernel = obj(obj(host?.storageNetwork)?.vmkernel);
    const name = str(host?.name);
    if (!vmkernel || name === undefined) return;
    const explicit = str(vmkernel.hostName);
    storageNames.push({ value: storageNameOf(name, explicit), path: ['hosts', i, explicit === undefined ? 'name' : 'storageNetwork', ...(explicit === undefined ? [] : ['vmkernel', 'hostName'])] });
  });
  const findings = duplicates(storageNames, 'storage network name', true);
  const known = new Set(storageNames.map((n) => n.value?.toLowerCase()));
  // Built once: per finding it cost the whole list again (a minute on a 10 MB inventory of errors).
  const knownShown = shownList(storageNames.flatMap((n) => (n.value === undefined ? [] : [n.value])));
  for (const { path, vm } of vms) {
    if (arr(obj(vm.dns)?.servers).length > 0) continue;
    arr(vm.datasets).forEach((d, j) => {
      const share = obj(obj(d)?.share);
      for (const list of ['rw', 'ro', 'root'] as const) {
        arr(share?.[list]).forEach((c, k) => {
          const client = str(c);
          if (client === undefined || known.has(client.toLowerCase())) return;
          findings.push({
            path: [...path, 'datasets', j, 'share', list, k],
            message: `${shown(client)} resolves nowhere: it is no host's storage network name (${knownShown}) and this VM has no dns servers`,
          });
        });
      }
    });
  }
  return findings;
}
