/**
 * configureStorage for real (linux profile): two lab storage hosts (own /etc, sshd, zfs-fuse, NFS
 * server each, a management and a storage bridge), hypervisor namespaces vh1, vh2 on the storage
 * bridge as the NFS clients, a Temporal dev server and a worker running the product's activities.
 * From blank to both NICs, /etc/hosts, a mirror pool with log and cache and a raidz pool with a
 * spare, nested datasets with properties and NFS shares proved from the hypervisors; a second run
 * changes nothing; a lab reboot keeps all of it; mistakes fail clearly with nothing changed; the
 * management address moves last, and a wrong one is reverted.
 *
 *   node --import tsx --test test/lab/configure.test.ts
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { parseDocument } from 'yaml';
import type { ConfigureStorageInput, ConfigureStorageResult } from '../../core/configure/shared';
import { configureStorageInput } from '../../inventory/configure';
import { parseInventory } from '../../inventory/load';
import { inHypervisor, labDown, labExec, labReboot, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { nfsUrl } from '../../lab/nfs/client';
import { configureStorage } from '../../workflows';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';

const DIR = path.resolve(__dirname, '..', '..', '.data', 'lab-configure-test');
const NAMES = ['test-san-01', 'test-san-02'];

let lab: LabState;
let temporal: TestTemporal;
let h1: LabHostState;
let h2: LabHostState;
let inventoryText: string;
const t0 = Date.now();
const ms = () => `${Date.now() - t0} ms`;

async function ok(host: LabHostState, ...argv: string[]): Promise<string> {
  const r = await labExec(host, argv);
  assert.equal(r.code, 0, `${host.name}: ${argv.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The lab inventory with changes: a mirror pool with log and cache on host 1, a raidz with a spare on host 2, nested datasets. */
function labVariant(changes: [(string | number)[], unknown][] = []): string {
  const doc = parseDocument(inventoryText);
  const vm = (i: number) => ['hosts', i, 'storageVm'];
  const disk = (name: string) => ({ disk: `/srv/disks/${name}` });
  doc.setIn([...vm(0), 'pool'], {
    name: 'sp1',
    data: [{ mirror: [disk('c8t1d0'), disk('c8t2d0')] }],
    log: [disk('c11t0d0')],
    cache: [disk('c9t0d0')],
    properties: { autoexpand: 'on' },
  });
  doc.setIn([...vm(1), 'pool'], { name: 'sp2', data: [{ raidz: [disk('c8t1d0'), disk('c8t2d0'), disk('c8t3d0')] }], log: [disk('c11t0d0')], spares: [disk('c10t0d0')] });
  const nested = (pool: string, j: number) => [
    { name: `${pool}/nas`, properties: { compression: 'on', atime: 'off' } },
    { ...(doc.getIn([...vm(j), 'datasets', 0]) as { toJSON(): object }).toJSON(), properties: { recordsize: '64K', quota: '1G' } },
  ];
  doc.setIn([...vm(0), 'datasets'], doc.createNode(nested('sp1', 0)));
  doc.setIn([...vm(1), 'datasets'], doc.createNode(nested('sp2', 1)));
  for (const [p, value] of changes) doc.setIn(p, value);
  return doc.toString();
}

function inputsOf(text: string, reachAt?: Record<string, string>): ConfigureStorageInput[] {
  const result = parseInventory(text, 'lab.yaml');
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return NAMES.map((name) => configureStorageInput(result.inventory, name, reachAt?.[name]));
}

let runs = 0;
/** Runs configureStorage for each input at once, under one worker. */
async function configureAll(inputs: ConfigureStorageInput[]): Promise<ConfigureStorageResult[]> {
  const handles = await Promise.all(inputs.map((input) => temporal.client.workflow.start(configureStorage, {
    args: [input],
    taskQueue: temporal.taskQueue,
    workflowId: `configure-${input.host.name}-${process.pid}-${runs++}`,
  })));
  return temporal.withWorker(() => Promise.all(handles.map((h) => h.result())));
}

const configure = async (input: ConfigureStorageInput) => (await configureAll([input]))[0]!;

async function failure(input: ConfigureStorageInput): Promise<{ type?: string; message: string }> {
  try {
    await configure(input);
  } catch (error) {
    assert.ok(error instanceof WorkflowFailedError, String(error));
    let cause: Error | undefined = error;
    while (cause?.cause instanceof Error) cause = cause.cause;
    return { type: (cause as { type?: string }).type, message: cause?.message ?? '' };
  }
  assert.fail('configureStorage succeeded');
}

const changes = (r: ConfigureStorageResult) => r.steps.flatMap((s) => s.report.changed.map((c) => `${s.step}: ${c}`));

/** A file written over NFS from a hypervisor namespace, then its owner as the storage host sees it. */
async function writeOverNfs(from: string, host: LabHostState, exportPath: string, file: string) {
  const local = path.join(DIR, `${from}-${file}`);
  fs.writeFileSync(local, `${file} from ${from}\n`);
  return inHypervisor(lab, from, ['nfs-cp', local, nfsUrl(host.storageAddress, `${exportPath}/${file}`, 3)], { timeoutMs: 30_000 });
}

describe('configureStorage on two lab storage hosts', { timeout: 600_000 }, () => {
  before(async () => {
    await labDown({ dir: DIR });
    [lab, temporal] = await Promise.all([labUp({ names: NAMES, dir: DIR, dataDisks: 3, spareDisk: true }), startTestTemporal('configure')]);
    [h1, h2] = lab.hosts as [LabHostState, LabHostState];
    inventoryText = fs.readFileSync(lab.inventoryFile, 'utf8');
    process.stdout.write(`# lab and server up: ${ms()}\n`);
  });

  after(async () => {
    await temporal?.stop();
    await labDown({ dir: DIR });
  });

  test('from blank: storage NIC, /etc/hosts, a mirror with log and cache, a raidz with a spare, nested datasets, shares', async () => {
    const results = await configureAll(inputsOf(labVariant()));
    process.stdout.write(`# first run: ${ms()}\n`);
    for (const [i, host] of [h1, h2].entries()) {
      const all = changes(results[i]!);
      assert.deepEqual(results[i]!.steps.map((s) => s.step), ['checkGuestOs', 'configureNetwork', 'configureNameResolution', 'createPool', 'configureDatasets', 'shareDatasets', 'switchManagementAddress']);
      assert.ok(all.some((c) => c.startsWith('configureNetwork:') && c.includes('eth1')), all.join('\n'));
      assert.match(await ok(host, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth1'), new RegExp(`inet ${host.storageAddress.replace(/\./g, '\\.')}/24`));
      assert.match(await ok(host, 'cat', '/etc/network/interfaces.d/esxi-zfs-eth1'), new RegExp(`address ${host.storageAddress.replace(/\./g, '\\.')}/24`));
      assert.match(await ok(host, 'getent', 'hosts', 'vh1-nas'), new RegExp(`^${lab.hypervisors[0]!.address.replace(/\./g, '\\.')}\\s`));
      assert.match(await ok(host, 'getent', 'hosts', NAMES[1 - i]!), new RegExp(`^${[h1, h2][1 - i]!.storageAddress.replace(/\./g, '\\.')}\\s`));
    }
    const status1 = await ok(h1, 'zpool', 'status', 'sp1');
    assert.match(status1, /mirror-0[\s\S]*\/srv\/disks\/c8t1d0[\s\S]*\/srv\/disks\/c8t2d0[\s\S]*logs[\s\S]*\/srv\/disks\/c11t0d0[\s\S]*cache[\s\S]*\/srv\/disks\/c9t0d0/);
    const status2 = await ok(h2, 'zpool', 'status', 'sp2');
    assert.match(status2, /raidz1-0[\s\S]*c8t1d0[\s\S]*c8t2d0[\s\S]*c8t3d0[\s\S]*logs[\s\S]*c11t0d0[\s\S]*spares[\s\S]*c10t0d0/);
    const props = await ok(h1, 'zfs', 'get', '-H', '-o', 'name,property,value,source', 'compression,atime,recordsize,quota,mountpoint', 'sp1/nas', 'sp1/nas/vol0');
    for (const line of ['sp1/nas\tcompression\ton\tlocal', 'sp1/nas\tatime\toff\tlocal', 'sp1/nas/vol0\trecordsize\t64K\tlocal', 'sp1/nas/vol0\tquota\t1G\tlocal', 'sp1/nas/vol0\tmountpoint\t/export/test-san-01-nas-vol0\tlocal']) {
      assert.ok(props.split('\n').includes(line), `${line}\n${props}`);
    }
    assert.equal((await ok(h1, 'zfs', 'get', '-H', '-o', 'value', 'sharenfs', 'sp1/nas/vol0')).trim(), 'vh1-nas:rw,no_root_squash vh2-nas:rw');
  });

  test('the shares from outside: vh1 keeps root, vh2 is squashed, the outsider is refused', async () => {
    const exportPath = '/export/test-san-01-nas-vol0';
    await ok(h1, 'chmod', '1777', exportPath); // so that a squashed root may create a file
    const byVh1 = await writeOverNfs('vh1', h1, exportPath, 'a.vmdk');
    assert.equal(byVh1.code, 0, byVh1.stderr);
    const byVh2 = await writeOverNfs('vh2', h1, exportPath, 'b.vmdk');
    assert.equal(byVh2.code, 0, byVh2.stderr);
    assert.equal((await ok(h1, 'stat', '-c', '%u', `${exportPath}/a.vmdk`)).trim(), '0');
    assert.equal((await ok(h1, 'stat', '-c', '%u', `${exportPath}/b.vmdk`)).trim(), '65534');
    const read = await inHypervisor(lab, 'vh1', ['nfs-cat', nfsUrl(h1.storageAddress, `${exportPath}/b.vmdk`, 3)], { timeoutMs: 30_000 });
    assert.equal(read.stdout, 'b.vmdk from vh2\n', read.stderr);
    const outsider = await writeOverNfs('outsider', h1, exportPath, 'c.vmdk');
    assert.notEqual(outsider.code, 0, 'the outsider is on no access list');
    assert.equal((await labExec(h1, ['test', '-e', `${exportPath}/c.vmdk`])).code, 1);
  });

  test('a second run changes nothing', async () => {
    const started = Date.now();
    const results = await configureAll(inputsOf(labVariant()));
    process.stdout.write(`# no-change run: ${Date.now() - started} ms for both hosts\n`);
    for (const r of results) assert.deepEqual(changes(r), []);
  });

  test('after a reboot everything is still configured and shared; configure then changes nothing', async () => {
    const report = await labReboot({ dir: DIR, host: h1.name });
    assert.ok(report.answers, report.notes.join('\n'));
    lab = report.state;
    h1 = lab.hosts[0]!;
    assert.match(await ok(h1, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth1'), new RegExp(`inet ${h1.storageAddress.replace(/\./g, '\\.')}/24`));
    assert.match(await ok(h1, 'zfs', 'get', '-H', '-o', 'value', 'mounted', 'sp1/nas/vol0'), /yes/);
    const read = await inHypervisor(lab, 'vh1', ['nfs-cat', nfsUrl(h1.storageAddress, '/export/test-san-01-nas-vol0/a.vmdk', 3)], { timeoutMs: 30_000 });
    assert.equal(read.stdout, 'a.vmdk from vh1\n', read.stderr);
    assert.deepEqual(changes(await configure(inputsOf(labVariant())[0]!)), []);
  });

  test('a pool property changed by hand is set back, and said', async () => {
    await ok(h1, 'zpool', 'set', 'autoexpand=off', 'sp1');
    assert.deepEqual(changes(await configure(inputsOf(labVariant())[0]!)), ['createPool: pool sp1: set autoexpand=on (was off)']);
    assert.match(await ok(h1, 'zpool', 'get', 'autoexpand', 'sp1'), /^sp1\s+autoexpand\s+on\s+local$/m);
  });

  test('a narrowed share takes effect at once: vh2 taken off the list is refused, and let in again when put back', async () => {
    const exportPath = '/export/test-san-01-nas-vol0';
    const narrowed = await configure(inputsOf(labVariant([[['hosts', 0, 'storageVm', 'datasets', 1, 'share', 'rw'], ['vh1-nas']]]))[0]!);
    assert.equal((await writeOverNfs('vh1', h1, exportPath, 'd.vmdk')).code, 0);
    assert.notEqual((await writeOverNfs('vh2', h1, exportPath, 'e.vmdk')).code, 0, 'vh2 is no longer on the list');
    assert.equal((await labExec(h1, ['test', '-e', `${exportPath}/e.vmdk`])).code, 1);
    assert.ok(changes(narrowed).some((c) => c.startsWith('shareDatasets: sp1/nas/vol0: unshared first')), changes(narrowed).join('\n'));
    assert.ok(changes(await configure(inputsOf(labVariant())[0]!)).length > 0);
    const back = await writeOverNfs('vh2', h1, exportPath, 'e.vmdk');
    assert.equal(back.code, 0, back.stderr);
  });

  test('mistakes fail clearly, before anything changes', async () => {
    const pools = async () => [await ok(h1, 'zpool', 'list', '-H', '-o', 'name'), await ok(h2, 'zpool', 'list', '-H', '-o', 'name')];
    const before = await pools();
    // Pools the inventory's checks would refuse with these datasets: the runbook's input, changed directly.
    const withPool = (pool: Partial<ConfigureStorageInput['pool']>) => {
      const [input] = inputsOf(labVariant());
      return { ...input!, pool: { ...input!.pool, ...pool } };
    };
    const wrongModel = withPool({ name: 'sp9', data: [{ kind: 'disk', disks: [{ model: 'NO SUCH DISK' }] }], log: [], cache: [] });
    const noMatch = await failure(wrongModel);
    assert.equal(noMatch.type, 'DiskSelection');
    assert.match(noMatch.message, /pool\.data\[0\]: no disk matches model "NO SUCH DISK": nearest/);
    const inUse = withPool({ name: 'sp9', data: [{ kind: 'disk', disks: [{ disk: '/srv/disks/c8t1d0' }] }], log: [], cache: [] });
    const taken = await failure(inUse);
    assert.equal(taken.type, 'DiskSelection');
    assert.match(taken.message, /c8t1d0.*sp1/);
    const differs = await failure(withPool({ data: [{ kind: 'disk', disks: [{ disk: '/srv/disks/c8t3d0' }] }] }));
    assert.equal(differs.type, 'PoolLayoutDiffers');
    const [unresolvable] = inputsOf(labVariant());
    unresolvable!.datasets[1]!.share!.root = ['nowhere-nas'];
    const unresolved = await failure(unresolvable!);
    assert.equal(unresolved.type, 'UnresolvedClient');
    assert.match(unresolved.message, /nowhere-nas does not resolve/);
    assert.deepEqual(await pools(), before);
    assert.equal((await ok(h1, 'zfs', 'get', '-H', '-o', 'value', 'sharenfs', 'sp1/nas/vol0')).trim(), 'vh1-nas:rw,no_root_squash vh2-nas:rw');
  });

  test('the management address moves last: a wrong one is reverted, a right one kept and found there next time', async () => {
    const vm = ['hosts', 1, 'storageVm'];
    const moved = (address: string, cidr: string) => labVariant([[[...vm, 'nics', 0, 'address'], cidr], [[...vm, 'ssh', 'address'], address]]);
    const old = h2.address;
    // Unreachable from the worker (no route): verified before anything is made persistent, and removed.
    const [, wrong] = inputsOf(moved('10.99.0.5', '10.99.0.5/24'), { [NAMES[1]!]: old });
    const refused = await failure(wrong!);
    assert.equal(refused.type, 'ManagementSwitchFailed');
    assert.match(refused.message, /did not answer SSH with the pinned host key: removed it again; the VM still answers at/);
    assert.doesNotMatch(await ok(h2, 'ip', '-4', '-o', 'addr'), /10\.99\.0\.5/);
    assert.doesNotMatch(await ok(h2, 'cat', '/etc/network/interfaces'), /10\.99\.0\.5/);

    const next = old.replace(/\.(\d+)$/, (_, n: string) => `.${Number(n) + 100}`);
    const [, right] = inputsOf(moved(next, `${next}/24`), { [NAMES[1]!]: old });
    const result = await configure(right!);
    assert.ok(changes(result).some((c) => c.startsWith('switchManagementAddress:')), changes(result).join('\n'));
    const addresses = await ok(h2, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0');
    assert.match(addresses, new RegExp(`inet ${next.replace(/\./g, '\\.')}/24`));
    assert.doesNotMatch(addresses, new RegExp(`inet ${old.replace(/\./g, '\\.')}/`));
    const [, again] = inputsOf(moved(next, `${next}/24`));
    assert.deepEqual(changes(await configure(again!)), [], 'found at its management address, nothing to change');
  });
});
