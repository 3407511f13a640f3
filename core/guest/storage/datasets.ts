/**
 * Datasets: created when missing, their inventory properties (and mountpoint) set where ZFS
 * differs; every other property is left alone.
 *
 * Invariants:
 * 1. A property the spec sets is in place when its value is the spec's (sizes compared in bytes:
 *    quota=10G is 10737418240) and its source is `local`. An inherited, default or received value
 *    is set locally even when equal: `zfs send -p` carries local properties, so the replica gets
 *    them too (the runbook's reason for sharenfs as a property).
 * 2. A property the spec does not name is never touched, whatever its value.
 * 3. Properties fixed at creation (casesensitivity, normalization, ...) are set by `zfs create -o`
 *    and only reported, never `zfs set`, when an existing dataset differs.
 * 4. Parents are planned before their children; `zfs create -p` makes any parent the inventory
 *    does not list, with defaults.
 * 5. One property per `zfs set`: pool-version-22 ZFS (the runbook's) takes only one.
 */
import type { DatasetSpec } from '../../configure/shared';
import type { PlannedCommand } from '../profile';
import type { StoragePlan } from './pool-plan';
import { CREATE_ONLY_PROPERTIES, sameValue } from './property-values';

export interface PropertyFact {
  value: string;
  /** `local`, `default`, `inherited from sp1/nas`, `received`, `-` (read-only), `temporary`. */
  source: string;
}

/** dataset → property → value and source; a dataset that does not exist is absent. */
export type DatasetFacts = ReadonlyMap<string, ReadonlyMap<string, PropertyFact>>;

/**
 * Every property of the named datasets. A missing dataset makes zfs exit 1 with
 * "cannot open 'X': dataset does not exist" on stderr and still print the others: run it without
 * failing on the exit code and pass stderr to datasetReadErrors.
 */
export const datasetFactsRead = (zfs: string, names: readonly string[]): string[] =>
  [zfs, 'get', '-H', '-p', '-o', 'name,property,value,source', 'all', ...names];

/** stderr lines of datasetFactsRead other than "dataset does not exist": a real failure. */
export function datasetReadErrors(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !/^cannot open '[^']*': dataset does not exist$/.test(l.trim()));
}

/** What `zfs get -o ...,source` prints as a source. */
const SOURCE = /^(local|default|-|temporary|received|inherited from [^\t]+)$/;

/**
 * `zfs get -H -p -o name,property,value,source`: tab-separated; a value may hold tabs and line
 * breaks (user properties, sharenfs, mountpoint: ZFS allows both), the source never. With `names`
 * (the datasets asked for), a line that does not start with one of them and a tab continues the
 * value before it, so a multi-line value reads as itself. A value whose lines look like another
 * row (`sp1/a<TAB>sharenfs<TAB>...`) gives that (dataset, property) twice: an error, never a guess.
 */
export function parseDatasetFacts(output: string, names?: readonly string[]): Map<string, Map<string, PropertyFact>> {
  const facts = new Map<string, Map<string, PropertyFact>>();
  const rows: { number: number; text: string }[] = [];
  output.split('\n').forEach((line, i) => {
    if (names === undefined && line.trim() === '') return;
    const startsRow = names === undefined ? line.trim() !== '' : names.some((n) => line.startsWith(`${n}\t`));
    if (startsRow || rows.length === 0) rows.push({ number: i + 1, text: line });
    else rows[rows.length - 1]!.text += `\n${line}`;
  });
  for (const { number, text } of rows) {
    const row = names === undefined ? text : text.replace(/\n+$/, '');
    if (row.trim() === '') continue;
    const fields = row.split('\t');
    const source = fields[fields.length - 1]!;
    if (fields.length < 4 || !SOURCE.test(source)) {
      throw new Error(`zfs get output line ${number} is not "name<TAB>property<TAB>value<TAB>source" (was it run with -H -o name,property,value,source?): ${JSON.stringify(row)}`);
    }
    const [name, property] = fields as [string, string];
    if (names !== undefined && !names.includes(name)) throw new Error(`zfs get output line ${number}: ${JSON.stringify(name)} is none of the datasets asked for: ${JSON.stringify(row)}`);
    let props = facts.get(name);
    if (!props) facts.set(name, (props = new Map()));
    if (props.has(property)) {
      throw new Error(`zfs get output line ${number}: ${name} ${property} is listed twice (a value holding a line break that looks like a row of its own?): refusing to guess which is true`);
    }
    props.set(property, { value: fields.slice(2, -1).join('\t'), source });
  }
  return facts;
}

/** The spec's properties in the order `zfs create -o` gets them: mountpoint first. */
function wantedProperties(spec: DatasetSpec): [string, string][] {
  return [...(spec.mountpoint !== undefined ? [['mountpoint', spec.mountpoint] as [string, string]] : []), ...Object.entries(spec.properties)];
}

const depth = (name: string) => name.split('/').length;

export function planDatasets(specs: readonly DatasetSpec[], facts: DatasetFacts, profile: { zfs: string }): StoragePlan {
  const plan: StoragePlan = { commands: [], found: [], warnings: [] };
  for (const spec of [...specs].sort((a, b) => depth(a.name) - depth(b.name))) {
    const wanted = wantedProperties(spec);
    const current = facts.get(spec.name);
    if (!current) {
      plan.found.push(`${spec.name} does not exist`);
      const shown = wanted.map(([k, v]) => `${k}=${v}`);
      plan.commands.push({
        argv: [profile.zfs, 'create', '-p', ...wanted.flatMap(([k, v]) => ['-o', `${k}=${v}`]), spec.name],
        change: `created ${spec.name}${shown.length > 0 ? ` (${shown.join(', ')})` : ''}`,
      });
      continue;
    }
    const inPlace: string[] = [];
    const sets: PlannedCommand[] = [];
    for (const [property, value] of wanted) {
      const fact = current.get(property);
      if (fact && sameValue(property, value, fact.value) && fact.source === 'local') {
        inPlace.push(`${property}=${value}`);
        continue;
      }
      const was = fact === undefined ? 'not set' : `${fact.value} (${fact.source})`;
      if (CREATE_ONLY_PROPERTIES.has(property)) {
        if (fact && !sameValue(property, value, fact.value)) {
          plan.warnings.push(`${spec.name}: ${property} is ${fact.value} and is fixed when a dataset is created: the inventory's ${value} needs a new dataset (data copied over)`);
        } else inPlace.push(`${property}=${value}`);
        continue;
      }
      plan.found.push(
        fact && sameValue(property, value, fact.value)
          ? `${spec.name}: ${property} is ${fact.value} but ${fact.source === '-' ? 'not local' : fact.source}: set locally so zfs send -p carries it`
          : `${spec.name}: ${property} is ${was}, the inventory says ${value}`,
      );
      sets.push({ argv: [profile.zfs, 'set', `${property}=${value}`, spec.name], change: `${spec.name}: set ${property}=${value} (was ${was})` });
    }
    if (inPlace.length > 0 || sets.length === 0) plan.found.push(`${spec.name} exists${inPlace.length > 0 ? `: ${inPlace.join(', ')} in place` : ''}`);
    plan.commands.push(...sets);
  }
  return plan;
}
