/**
 * Checks that span sections of the inventory: names that must exist elsewhere, names that must be
 * unique, datasets that must live in their VM's pool. They read the raw document defensively so
 * that they report alongside schema errors: every mistake at once.
 */
export interface Finding {
  path: (string | number)[];
  message: string;
}

type Raw = Record<string, unknown>;

const obj = (v: unknown): Raw | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const poolOf = (dataset: string): string => dataset.split('/')[0] ?? '';

interface VmEntry { path: (string | number)[]; vm: Raw; name?: string; pool?: string; }

function storageVms(root: Raw): VmEntry[] {
  return arr(root.hosts).flatMap((h, i) => {
    const vm = obj(obj(h)?.storageVm);
    return vm ? [{ path: ['hosts', i, 'storageVm'], vm, name: str(vm.name), pool: str(obj(vm.pool)?.name) }] : [];
  });
}

function duplicates(entries: { value?: string; path: (string | number)[] }[], what: string): Finding[] {
  const seen = new Map<string, (string | number)[]>();
  const findings: Finding[] = [];
  for (const { value, path } of entries) {
    if (value === undefined) continue;
    const first = seen.get(value);
    if (first) findings.push({ path, message: `duplicate ${what} '${value}' (first at ${formatPath(first)})` });
    else seen.set(value, path);
  }
  return findings;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

export function checkReferences(document: unknown): Finding[] {
  const root = obj(document);
  if (!root) return [];
  const findings: Finding[] = [];
  const credentials = new Set(Object.keys(obj(root.credentials) ?? {}));
  const hosts = arr(root.hosts).map((h) => str(obj(h)?.name));
  const hostNames = new Set(hosts.filter((h): h is string => h !== undefined));
  const vms = storageVms(root);
  const vmByName = new Map(vms.filter((v) => v.name).map((v) => [v.name as string, v]));

  const credentialRef = (value: unknown, path: (string | number)[]) => {
    const name = str(value);
    if (name !== undefined && !credentials.has(name)) {
      findings.push({ path, message: `credential '${name}' is not defined under credentials (${[...credentials].join(', ') || 'none defined'})` });
    }
  };
  credentialRef(obj(root.vsphere)?.credentials, ['vsphere', 'credentials']);

  findings.push(...duplicates(hosts.map((value, i) => ({ value, path: ['hosts', i, 'name'] })), 'host name'));
  findings.push(...duplicates(vms.map((v) => ({ value: v.name, path: [...v.path, 'name'] })), 'storage VM name'));

  const replicaTargets: { value?: string; path: (string | number)[] }[] = [];
  const datastores: { value?: string; path: (string | number)[] }[] = [];
  for (const { path, vm, name, pool } of vms) {
    credentialRef(obj(vm.ssh)?.credentials, [...path, 'ssh', 'credentials']);
    const datasets = arr(vm.datasets);
    findings.push(...duplicates(datasets.map((d, j) => ({ value: str(obj(d)?.name), path: [...path, 'datasets', j, 'name'] })), 'dataset'));
    datasets.forEach((d, j) => {
      const ds = obj(d);
      const at = [...path, 'datasets', j];
      const dsName = str(ds?.name);
      if (dsName && pool && poolOf(dsName) !== pool) {
        findings.push({ path: [...at, 'name'], message: `dataset '${dsName}' is not in this VM's pool '${pool}'` });
      }
      const store = obj(ds?.datastore);
      datastores.push({ value: str(store?.name), path: [...at, 'datastore', 'name'] });
      arr(store?.mountOn).forEach((h, k) => {
        const host = str(h);
        if (host && !hostNames.has(host)) {
          findings.push({ path: [...at, 'datastore', 'mountOn', k], message: `'${host}' is not an ESXi host of this inventory (${[...hostNames].join(', ')})` });
        }
      });
      const target = obj(ds?.replicateTo);
      if (!target) return;
      const targetVmName = str(target.vm);
      const targetDataset = str(target.dataset);
      const targetVm = targetVmName ? vmByName.get(targetVmName) : undefined;
      if (targetVmName && !targetVm) {
        findings.push({ path: [...at, 'replicateTo', 'vm'], message: `'${targetVmName}' is not a storage VM of this inventory (${[...vmByName.keys()].join(', ') || 'none'})` });
      } else if (targetVmName && targetVmName === name) {
        findings.push({ path: [...at, 'replicateTo', 'vm'], message: 'a dataset must replicate to another storage VM, not its own' });
      }
      if (targetVm && targetDataset) {
        if (targetVm.pool && poolOf(targetDataset) !== targetVm.pool) {
          findings.push({ path: [...at, 'replicateTo', 'dataset'], message: `'${targetDataset}' is not in ${targetVmName}'s pool '${targetVm.pool}'` });
        }
        const own = arr(targetVm.vm.datasets).some((o) => str(obj(o)?.name) === targetDataset);
        if (own) {
          findings.push({ path: [...at, 'replicateTo', 'dataset'], message: `'${targetDataset}' is one of ${targetVmName}'s own datasets; a replica needs a dataset of its own` });
        }
        replicaTargets.push({ value: `${targetVmName}:${targetDataset}`, path: [...at, 'replicateTo', 'dataset'] });
      }
    });
  }
  findings.push(...duplicates(replicaTargets, 'replication target'));
  findings.push(...duplicates(datastores, 'datastore name'));
  return findings;
}
