/** `esxi-zfs status`'s pure parts: the inspection's input, reading a storage VM's outputs, datastores, the health judgement and the view. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { requireInventory } from '../../inventory/load';
import { inspectClusterInput } from '../../inventory/status';
import { datasetStates, poolState, storageVmReads } from '../../core/status/storage-vm-read';
import type { EsxiHostState, HostInspection, StorageVmState } from '../../core/status/shared';
import { datastoreStates, guestAddresses } from '../../activities/vsphere/inspect';
import { hostFindings, replicationFindings } from '../../scripts/status-health';
import { clusterStatus, clusterStatusToJson, formatClusterStatus } from '../../scripts/status-view';
import { longestGap, type DatasetStatus } from '../../scripts/status';
import { createInspectStorageActivities } from '../../activities/guest/inspect';
import { SshConnectionError } from '../../activities/ssh';
import { RecordingTransport } from '../helpers/recording-transport';

const FIXTURES = path.join(__dirname, '../fixtures/guest');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const runbook = requireInventory(path.join(__dirname, '../../examples/runbook.yaml'));
const HOUR = 3_600_000;

test('the inspection input: every inventory host, its datastores, the storage VM with its datasets and the replicas it receives; no secret', () => {
  const input = inspectClusterInput(runbook);
  assert.deepEqual(input.hosts.map((h) => [h.name, h.esxi?.datastores.map((d) => d.datastore), h.storageVm?.ssh.name]), [
    ['vh0', ['uss1-nas-vol0', 'uss2-nas-vol1'], undefined],
    ['vh1', ['uss1-nas-vol0', 'uss2-nas-vol1'], 'uss1'],
    ['vh2', ['uss1-nas-vol0', 'uss2-nas-vol1'], 'uss2'],
    ['vh3', ['uss1-nas-vol0', 'uss2-nas-vol1'], undefined],
  ]);
  const vh1 = input.hosts[1]!;
  assert.deepEqual(vh1.esxi!.passthrough, { vendorId: '0x19e3', classId: '0x0100' });
  assert.deepEqual(vh1.esxi!.storageVm, { name: 'uss1', address: '192.0.2.41' });
  assert.equal(input.hosts[0]!.esxi!.passthrough, undefined);
  assert.deepEqual(vh1.storageVm!.datasets, [
    { name: 'sp1/nas/vol0', shared: true },
    { name: 'sp1/nas/vol1', shared: false, replicaOf: 'uss2:sp2/nas/vol1' },
  ]);
  assert.equal(vh1.storageVm!.pool, 'sp1');
  assert.deepEqual(vh1.esxi!.datastores[0], { datastore: 'uss1-nas-vol0', remoteHost: '10.0.1.41', remotePath: '/export/uss1-nas-vol0', nfsVersion: '3', accessMode: 'readWrite' });
  const text = JSON.stringify(input);
  assert.match(text, /"passwordEnv":"VSPHERE_PASSWORD"/);
  assert.doesNotMatch(text, /PRIVATE KEY/);

  const noVsphere = { ...runbook, vsphere: undefined };
  assert.ok(inspectClusterInput(noVsphere).hosts.every((h) => h.esxi === undefined), 'without a vsphere section only the storage VMs are read');
});

test('a storage VM\'s pool: health and sizes from zpool list, log and cache devices from zpool status (zfs-fuse, OpenZFS)', () => {
  const list = 'sp1\t1.98G\t120K\t1.98G\tONLINE\nother\t1G\t0\t1G\tDEGRADED\n';
  assert.deepEqual(poolState('sp1', list, fixture('zfs-fuse-zpool-status-sp1.txt')), {
    name: 'sp1', sizeBytes: Math.trunc(1.98 * 2 ** 30), allocatedBytes: 120 * 1024, freeBytes: Math.trunc(1.98 * 2 ** 30), health: 'ONLINE',
    log: ['/srv/disks/c11t0d0'], cache: ['/srv/disks/c9t0d0'],
  });
  const tank = poolState('tank', 'tank\t100G\t1G\t99G\tONLINE\n', fixture('openzfs-zpool-status-tank.txt'))!;
  assert.deepEqual([tank.log, tank.cache], [['nvme-INTEL_SSDPE21D280GA_PHM2913000QM280AGN'], ['ata-Samsung_SSD_870_EVO_1TB_S6PTNM0T512345A']]);
  assert.equal(poolState('sp2', list, undefined), undefined, 'a pool that is not imported');
  assert.deepEqual(storageVmReads({ zfs: 'zfs', zpool: 'zpool' }).datasets(['a', 'b']), ['zfs', 'get', '-H', '-p', '-o', 'name,property,value,source', 'used,available,mountpoint,sharenfs', 'a', 'b']);
});

test('datasets: used, available, mountpoint, sharenfs and the newest snapshot by createtxg; a missing one; sharenfs off', () => {
  const properties = [
    ...fixture('zfs-fuse-zfs-get-finished.txt').split('\n').filter((l) => l.startsWith('sp1/nas/vol0\t')),
    'sp1/nas/vol1\tused\t4096\t-', 'sp1/nas/vol1\tavailable\t1000\t-', 'sp1/nas/vol1\tmountpoint\t/sp1/nas/vol1\tdefault', 'sp1/nas/vol1\tsharenfs\toff\tdefault',
  ].join('\n');
  const snap = (name: string, txg: number, creation: number) =>
    [`${name}\tguid\t${txg}000\t`, `${name}\tcreatetxg\t${txg}`, `${name}\tcreation\t${creation}`, `${name}\tuserrefs\t0`].map((l) => l.replace(/\t$/, '')).join('\n');
  const snapshots = [
    'sp1/nas/vol0\tguid\t-', snap('sp1/nas/vol0@esxi-zfs-b', 20, 2000), snap('sp1/nas/vol0@esxi-zfs-a', 10, 3000), 'sp1/nas/vol0/child\tguid\t-',
  ].join('\n');
  const states = datasetStates([
    { name: 'sp1/nas/vol0', shared: true },
    { name: 'sp1/nas/vol1', shared: true },
    { name: 'sp1/nas/vol2', shared: false, replicaOf: 'uss2:sp2/nas/vol2' },
  ], properties, snapshots);
  assert.deepEqual(states, [
    {
      name: 'sp1/nas/vol0', shared: true, exists: true, usedBytes: 114688, availableBytes: 2096234496, mountpoint: '/export/uss1-nas-vol0',
      sharenfs: 'vh1-nas:rw,no_root_squash *:rw', snapshots: 2, newestSnapshot: { name: 'esxi-zfs-b', creation: 2000 },
    },
    { name: 'sp1/nas/vol1', shared: true, exists: true, usedBytes: 4096, availableBytes: 1000, mountpoint: '/sp1/nas/vol1', snapshots: 0 },
    { name: 'sp1/nas/vol2', shared: false, replicaOf: 'uss2:sp2/nas/vol2', exists: false, snapshots: 0 },
  ]);
});

test('datastores: the inventory\'s (mounted or not), other NFS ones, not the local VMFS one; the host\'s mount info over summary.accessible', () => {
  const expected = [
    { datastore: 'uss1-nas-vol0', remoteHost: '10.0.1.41', remotePath: '/export/uss1-nas-vol0', nfsVersion: '3' as const, accessMode: 'readWrite' as const },
    { datastore: 'uss2-nas-vol1', remoteHost: '10.0.1.42', remotePath: '/export/uss2-nas-vol1', nfsVersion: '4.1' as const, accessMode: 'readWrite' as const },
  ];
  const states = datastoreStates(expected, [
    { name: 'datastore1', type: 'VMFS', summaryAccessible: true },
    { name: 'uss1-nas-vol0', type: 'NFS', nas: { remoteHost: '10.0.1.41', remotePath: '/export/uss1-nas-vol0' }, summaryAccessible: true, mount: { mounted: true, accessible: false, inaccessibleReason: 'AllPathsDown_Start', accessMode: 'readWrite' } },
    { name: 'old-share', type: 'NFS', nas: { remoteHost: '10.0.1.99', remotePath: '/x' }, summaryAccessible: false },
  ]);
  assert.deepEqual(states, [
    { name: 'uss1-nas-vol0', type: 'NFS', remote: '10.0.1.41:/export/uss1-nas-vol0', expected: true, mounted: true, accessible: false, inaccessibleReason: 'AllPathsDown_Start', accessMode: 'readWrite', expectedAccessMode: 'readWrite' },
    { name: 'uss2-nas-vol1', type: 'NFS41', remote: '10.0.1.42:/export/uss2-nas-vol1', expected: true, mounted: false, expectedAccessMode: 'readWrite' },
    { name: 'old-share', type: 'NFS', remote: '10.0.1.99:/x', expected: false, mounted: true, accessible: false },
  ]);
  assert.deepEqual(guestAddresses({ 'guest.ipAddress': '192.0.2.41', 'guest.net': [{ ipAddress: ['192.0.2.41', 'fe80::1'] }, { ipAddress: ['10.0.1.41'] }] }), ['192.0.2.41', 'fe80::1', '10.0.1.41']);
});

const goodEsxi = (): EsxiHostState => ({
  name: 'vh1', connectionState: 'connected', inMaintenanceMode: false,
  passthrough: { devices: [{ id: '0000:0b:00.0', description: 'DDRdrive X1', passthruEnabled: true, passthruActive: true }] },
  storageVm: { name: 'uss1', found: true, powerState: 'poweredOn', guestAddresses: ['192.0.2.41'] },
  datastores: [{ name: 'uss1-nas-vol0', type: 'NFS', remote: '10.0.1.41:/export/uss1-nas-vol0', expected: true, mounted: true, accessible: true, accessMode: 'readWrite', expectedAccessMode: 'readWrite' }],
});
const goodVm = (): StorageVmState => ({
  name: 'uss1', address: '192.0.2.41', reachable: true, poolName: 'sp1',
  pool: { name: 'sp1', health: 'ONLINE', sizeBytes: 100, allocatedBytes: 10, freeBytes: 90, log: ['c11t0d0'], cache: [] },
  datasets: [
    { name: 'sp1/nas/vol0', shared: true, exists: true, sharenfs: 'rw', snapshots: 1, newestSnapshot: { name: 'a', creation: 1 } },
    { name: 'sp1/nas/vol1', shared: false, replicaOf: 'uss2:sp2/nas/vol1', exists: false, snapshots: 0 },
  ],
});
/** A host as read, with these changes; `{ failed }` for a part that could not be read. */
const host = (esxi: Partial<EsxiHostState> | { failed: string } = {}, vm: Partial<StorageVmState> | { failed: string } = {}): HostInspection => ({
  name: 'vh1',
  esxi: 'failed' in esxi ? { error: esxi.failed } : { state: { ...goodEsxi(), ...esxi } },
  storageVm: 'failed' in vm ? { error: vm.failed } : { state: { ...goodVm(), ...vm } },
});
const messages = (f: { problems: { subject: string; message: string }[] }) => f.problems.map((p) => `${p.subject}: ${p.message}`);

test('a healthy host has no problem; a replica not received yet is a warning', () => {
  const f = hostFindings(host());
  assert.deepEqual(f.problems, []);
  assert.deepEqual(f.warnings, [{ subject: 'vh1/uss1', message: 'replica sp1/nas/vol1 of uss2:sp2/nas/vol1 not received yet' }]);
});

test('host problems: not connected, vSphere not answering, passthrough not active, VM off and unreachable, datastores, pool, datasets', () => {
  assert.deepEqual(messages(hostFindings(host({ connectionState: 'notResponding' }))), ['vh1: host is notResponding, not connected']);
  assert.deepEqual(messages(hostFindings(host({ failed: 'connect ECONNREFUSED 10.0.0.1:443' }))), ['vh1: vSphere did not answer: connect ECONNREFUSED 10.0.0.1:443']);
  assert.deepEqual(messages(hostFindings(host({ passthrough: { devices: [{ id: '0000:0b:00.0', description: 'X1', passthruEnabled: true, passthruActive: false }] } }))),
    ['vh1: passthrough 0000:0b:00.0 enabled but not active (reboot the host, or run esxi-zfs passthrough)']);
  assert.deepEqual(messages(hostFindings(host({ passthrough: { devices: [] } }))), ['vh1: no PCI device matches the inventory\'s passthrough device']);
  assert.deepEqual(
    messages(hostFindings(host({ storageVm: { name: 'uss1', found: true, powerState: 'poweredOff', guestAddresses: [] } }, { reachable: false, error: 'ssh uss1: cannot connect: ECONNREFUSED', pool: undefined, datasets: [] }))),
    ['vh1: storage VM uss1 is poweredOff', 'vh1/uss1: unreachable over SSH at 192.0.2.41: ssh uss1: cannot connect: ECONNREFUSED'],
  );
  assert.deepEqual(messages(hostFindings(host({ storageVm: { name: 'uss1', found: false, guestAddresses: [] } }))), ['vh1: no storage VM uss1 on the host']);
  assert.deepEqual(messages(hostFindings(host({
    datastores: [
      { name: 'uss1-nas-vol0', type: 'NFS', remote: '10.0.1.41:/export/uss1-nas-vol0', expected: true, mounted: false },
      { name: 'old', type: 'NFS', expected: false, mounted: true, accessible: false, inaccessibleReason: 'AllPathsDown_Timeout' },
    ],
  }))), ['vh1: datastore uss1-nas-vol0 (10.0.1.41:/export/uss1-nas-vol0) is not mounted', 'vh1: datastore old is inaccessible (AllPathsDown_Timeout)']);
  assert.deepEqual(messages(hostFindings(host({ datastores: [{ ...goodEsxi().datastores[0]!, accessMode: 'readOnly' }] }))), ['vh1: datastore uss1-nas-vol0 is mounted readOnly, the inventory says readWrite']);
  assert.deepEqual(messages(hostFindings(host({}, { pool: { ...goodVm().pool!, health: 'DEGRADED' } }))), ['vh1/uss1: pool sp1 is DEGRADED']);
  assert.deepEqual(messages(hostFindings(host({}, { pool: undefined }))), ['vh1/uss1: pool sp1 is not imported']);
  assert.deepEqual(messages(hostFindings(host({}, { datasets: [{ name: 'sp1/nas/vol0', shared: true, exists: true, snapshots: 0 }, { name: 'sp1/x', shared: false, exists: false, snapshots: 0 }] }))), [
    'vh1/uss1: dataset sp1/nas/vol0 is not shared (sharenfs off): its datastores cannot mount it',
    'vh1/uss1: dataset sp1/x does not exist',
  ]);
  assert.deepEqual(messages(hostFindings(host({}, { failed: 'zfs get: bad property list' }))), ['vh1: storage VM could not be read: zfs get: bad property list']);
  const warned = hostFindings(host({ inMaintenanceMode: true, storageVm: { name: 'uss1', found: true, powerState: 'poweredOn', guestAddresses: ['169.254.0.5'] } }, { pool: { ...goodVm().pool!, allocatedBytes: 85, freeBytes: 15 } }));
  assert.deepEqual(warned.problems, []);
  assert.deepEqual(warned.warnings.map((w) => w.message), [
    'host is in maintenance mode',
    'the guest does not show 192.0.2.41 (VMware Tools: 169.254.0.5)',
    'pool sp1 is 85% full (15 B free)',
    'replica sp1/nas/vol1 of uss2:sp2/nas/vol1 not received yet',
  ]);
});

const NOW = new Date('2026-12-03T12:00:00Z');
const row = (over: Partial<DatasetStatus> = {}): DatasetStatus => ({
  host: 'uss1', dataset: 'sp1/nas/vol0', target: 'uss2:sp2/nas/vol0', workflowId: 'replicate/uss1/sp1/nas/vol0', scheduleId: 's', scheduleExpected: true,
  last: { workflowId: 'w', runId: 'r', type: 'replicateDataset', status: 'COMPLETED', startedAt: new Date(NOW.getTime() - 3 * HOUR), closedAt: new Date(NOW.getTime() - 3 * HOUR + 60_000) },
  lastSuccessAt: new Date(NOW.getTime() - 3 * HOUR + 60_000),
  schedule: { cron: '59 23 * * *', timezone: 'UTC', paused: false, periodMs: 24 * HOUR, createdAt: new Date('2026-11-01T00:00:00Z'), running: [] },
  ...over,
});

test('replication: healthy when the last success is within the period plus the margin; stale, failed, unscheduled otherwise', () => {
  assert.deepEqual(replicationFindings(row(), NOW, HOUR), { problems: [], warnings: [] });
  const stale = row({ lastSuccessAt: new Date(NOW.getTime() - 25 * HOUR - 60_000) });
  assert.deepEqual(messages(replicationFindings(stale, NOW, HOUR)), ["uss1:sp1/nas/vol0: last successful replication 25h01m ago: more than the schedule's period (24h00m) plus 1h00m"]);
  assert.deepEqual(replicationFindings(stale, NOW, 2 * HOUR).problems, [], 'a larger margin');
  const failed = row({ last: { ...row().last!, status: 'FAILED', failure: 'sendSnapshot: target modified' } });
  assert.deepEqual(messages(replicationFindings(failed, NOW, HOUR)), ['uss1:sp1/nas/vol0: last replication failed: sendSnapshot: target modified']);
  assert.deepEqual(messages(replicationFindings(row({ schedule: undefined }), NOW, HOUR)), ['uss1:sp1/nas/vol0: no schedule in this namespace: run esxi-zfs schedules apply']);
  assert.deepEqual(replicationFindings(row({ schedule: undefined, scheduleExpected: false }), NOW, HOUR).problems, [], 'replicated by hand only: no schedule to keep');
  const fresh = row({ last: undefined, lastSuccessAt: undefined, schedule: { ...row().schedule!, createdAt: new Date(NOW.getTime() - HOUR) } });
  assert.deepEqual(replicationFindings(fresh, NOW, HOUR).problems, [], 'a new schedule that has not fired yet');
  const never = row({ last: undefined, lastSuccessAt: undefined });
  assert.match(messages(replicationFindings(never, NOW, HOUR))[0]!, /no successful replication in the 32d\d\dh since the schedule was made/);
  const paused = replicationFindings(row({ lastSuccessAt: new Date(NOW.getTime() - 48 * HOUR), schedule: { ...row().schedule!, paused: true, note: 'failover' } }), NOW, HOUR);
  assert.deepEqual(paused, { problems: [], warnings: [{ subject: 'uss1:sp1/nas/vol0', message: 'schedule paused (failover)' }] }, 'paused: a warning, its age not judged');
  assert.equal(longestGap([new Date(0), new Date(3 * HOUR), new Date(HOUR)]), 2 * HOUR);
  assert.equal(longestGap([new Date(0)]), undefined);
});

test('the view: healthy or not from every part; the tables; JSON of the documented shape; without an inventory only replication', () => {
  const live = { workflowId: 'inspect-cluster/x', result: { startedAt: NOW.toISOString(), hosts: [host()] } };
  const ok = clusterStatus({ now: NOW, live, replication: [row()], marginMs: HOUR });
  assert.equal(ok.healthy, true);
  const text = formatClusterStatus(ok);
  assert.match(text, /^HOST\s+ESXI\s+MAINT\s+PASSTHROUGH\s+STORAGE VM\s+POWER\s+GUEST\s+SSH\nvh1\s+connected\s+no\s+0000:0b:00\.0 active\s+uss1\s+poweredOn\s+192\.0\.2\.41\s+ok \(192\.0\.2\.41\)$/m);
  assert.match(text, /^vh1\s+uss1-nas-vol0\s+10\.0\.1\.41:\/export\/uss1-nas-vol0\s+inventory\s+yes\s+readWrite\s+yes$/m);
  assert.match(text, /^uss1\s+sp1\s+ONLINE\s+100 B\s+10 B\s+90 B\s+c11t0d0\s+-$/m);
  assert.match(text, /^uss1\s+sp1\/nas\/vol1 \(replica of uss2:sp2\/nas\/vol1\)\s+missing/m);
  assert.match(text, /^uss1:sp1\/nas\/vol0\s+uss2:sp2\/nas\/vol0\s+2h59m ago\s+completed/m);
  assert.match(text, /warnings:\n {2}vh1\/uss1: replica sp1\/nas\/vol1/);
  assert.match(text, /\nhealthy$/);

  const json = clusterStatusToJson(ok) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ['healthy', 'checkedAt', 'problems', 'warnings', 'inspection', 'hosts', 'replication']);
  assert.deepEqual(json.inspection, { workflowId: 'inspect-cluster/x' });
  assert.deepEqual(JSON.parse(JSON.stringify(json.hosts)), [JSON.parse(JSON.stringify(host()))]);
  const [rep] = json.replication as Record<string, unknown>[];
  assert.equal(rep!.lastSuccessAgeMs, 3 * HOUR - 60_000);
  assert.equal((rep!.schedule as { periodMs: number }).periodMs, 24 * HOUR);

  const noWorker = clusterStatus({ now: NOW, live: { workflowId: 'inspect-cluster/y', error: 'no worker took inspect-cluster/y within 10 s' }, replication: [row()], marginMs: HOUR });
  assert.equal(noWorker.healthy, false);
  assert.deepEqual(messages(noWorker), ['inspection: the live state was not read: no worker took inspect-cluster/y within 10 s']);
  assert.match(formatClusterStatus(noWorker), /^live state not read \(inspect-cluster\/y\): no worker/);

  const down = clusterStatus({ now: NOW, live: { ...live, result: { ...live.result, hosts: [host({ failed: 'ETIMEDOUT' }, { reachable: false, error: 'timed out', pool: undefined, datasets: [] })] } }, replication: [], marginMs: HOUR });
  assert.equal(down.healthy, false);
  assert.match(formatClusterStatus(down), /^vh1\s+not read: ETIMEDOUT\s+-\s+-\s+uss1\s+-\s+-\s+unreachable \(192\.0\.2\.41\)$/m);
  assert.match(formatClusterStatus(down), /unhealthy: 2 problem\(s\)$/);

  const replicationOnly = clusterStatus({ now: NOW, replication: [row()], marginMs: HOUR });
  assert.equal((clusterStatusToJson(replicationOnly) as { inspection: unknown }).inspection, null);
  assert.doesNotMatch(formatClusterStatus(replicationOnly), /^HOST/m);
});

test('inspectStorageVm (illumos: /usr/sbin): reads the pool, the datasets and their snapshots; a VM that does not answer is unreachable, not a failure', async () => {
  const vm = inspectClusterInput(runbook).hosts[1]!.storageVm!;
  const transport = new RecordingTransport([
    { match: /^\/usr\/sbin\/zpool list -H/, reply: { stdout: 'sp1\t1.98G\t120K\t1.98G\tONLINE\n' } },
    { match: /^\/usr\/sbin\/zpool status sp1$/, reply: { stdout: fixture('zfs-fuse-zpool-status-sp1.txt') } },
    {
      match: /^\/usr\/sbin\/zfs get -H -p -o name,property,value,source used,available,mountpoint,sharenfs sp1\/nas\/vol0 sp1\/nas\/vol1$/,
      reply: { code: 1, stdout: 'sp1/nas/vol0\tused\t4096\t-\nsp1/nas/vol0\tavailable\t8192\t-\nsp1/nas/vol0\tmountpoint\t/export/uss1-nas-vol0\tlocal\nsp1/nas/vol0\tsharenfs\trw\tlocal\n', stderr: "cannot open 'sp1/nas/vol1': dataset does not exist\n" },
    },
    { match: /^\/usr\/sbin\/zfs get -H -p -d 1 -o name,property,value guid,createtxg,creation,userrefs sp1\/nas\/vol0$/, reply: { stdout: 'sp1/nas/vol0@s1\tguid\t11\nsp1/nas/vol0@s1\tcreatetxg\t5\nsp1/nas/vol0@s1\tcreation\t1000\nsp1/nas/vol0@s1\tuserrefs\t0\n' } },
  ]);
  const { inspectStorageVm } = createInspectStorageActivities({ transport });
  const state = await inspectStorageVm(vm);
  assert.equal(state.reachable, true);
  assert.deepEqual([state.pool!.health, state.pool!.log], ['ONLINE', ['/srv/disks/c11t0d0']]);
  assert.deepEqual(state.datasets.map((d) => [d.name, d.exists, d.sharenfs, d.newestSnapshot?.name]), [
    ['sp1/nas/vol0', true, 'rw', 's1'], ['sp1/nas/vol1', false, undefined, undefined],
  ]);

  const broken = new RecordingTransport([{ match: /./, reply: { code: 1, stderr: 'zfs get: bad property list' } }]);
  broken.runOk = async () => {
    throw new SshConnectionError('uss1', '192.0.2.41', 22, 'connect', 'ssh uss1 (192.0.2.41:22): cannot connect: connect ECONNREFUSED 192.0.2.41:22');
  };
  assert.deepEqual(await createInspectStorageActivities({ transport: broken }).inspectStorageVm(vm), {
    name: 'uss1', address: '192.0.2.41', reachable: false, error: 'ssh uss1 (192.0.2.41:22): cannot connect: connect ECONNREFUSED 192.0.2.41:22', poolName: 'sp1', datasets: [],
  });
});
