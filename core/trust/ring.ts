/** Who receives what, who authorizes whom, who pins whom: the trust ring from the replication edges. */
import type { StorageHostRef } from '../hosts';
import type { SetupReplicationTrustInput } from './shared';

export interface TrustRing {
  user: string;
  hosts: StorageHostRef[];
  receives: Map<string, string[]>;
  sourcesOf: Map<string, { source: StorageHostRef; datasets: string[] }[]>;
  targetsOf: Map<string, StorageHostRef[]>;
}

/** Who receives what, who authorizes whom, who pins whom. Hosts named only by edges are added. */
export function trustPlan(input: SetupReplicationTrustInput): TrustRing {
  const user = input.user ?? 'zfsadm';
  const byName = new Map<string, StorageHostRef>();
  for (const h of [...input.hosts, ...input.edges.flatMap((e) => [e.source, e.target])]) if (!byName.has(h.name)) byName.set(h.name, h);
  const hosts = [...byName.values()];
  const receives = new Map<string, string[]>(hosts.map((h) => [h.name, []]));
  const sourcesOf = new Map<string, { source: StorageHostRef; datasets: string[] }[]>(hosts.map((h) => [h.name, []]));
  const targetsOf = new Map<string, StorageHostRef[]>(hosts.map((h) => [h.name, []]));
  for (const edge of input.edges) {
    const source = byName.get(edge.source.name)!;
    const target = byName.get(edge.target.name)!;
    const rx = receives.get(target.name)!;
    if (!rx.includes(edge.targetDataset)) rx.push(edge.targetDataset);
    const sources = sourcesOf.get(target.name)!;
    const entry = sources.find((s) => s.source.name === source.name);
    if (!entry) sources.push({ source, datasets: [edge.targetDataset] });
    else if (!entry.datasets.includes(edge.targetDataset)) entry.datasets.push(edge.targetDataset);
    const targets = targetsOf.get(source.name)!;
    if (!targets.some((t) => t.name === target.name)) targets.push(target);
  }
  return { user, hosts, receives, sourcesOf, targetsOf };
}

