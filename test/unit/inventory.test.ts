import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument } from 'yaml';
import { parseInventory } from '../../inventory/load';
import { assertRejected, EXAMPLE, exampleText, problems, withChange } from '../helpers/inventory';

const DATASET = ['hosts', 1, 'storageVm', 'datasets', 0];

test('the runbook example validates', () => {
  const result = parseInventory(exampleText, EXAMPLE);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems, null, 2));
  const uss1 = result.inventory.hosts[1]!.storageVm!;
  assert.equal(uss1.pool.name, 'sp1');
  assert.deepEqual(uss1.pool.data, [{ disk: 'c8t1d0' }]);
  assert.deepEqual(uss1.pool.log, [{ disk: 'c11t0d0' }]);
  const vol0 = uss1.datasets[0]!;
  assert.equal(vol0.name, 'sp1/nas/vol0');
  assert.equal(vol0.mountpoint, '/export/uss1-nas-vol0');
  assert.deepEqual(vol0.share, { rw: true, nosuid: true, root: ['vh3-nas', 'vh2-nas', 'vh1-nas', 'vh0-nas'] });
  assert.deepEqual(vol0.replicateTo, { vm: 'uss2', dataset: 'sp2/nas/vol0' });
  assert.deepEqual(result.inventory.hosts.map((h) => h.name), ['vh0', 'vh1', 'vh2', 'vh3']);
  assert.equal(result.inventory.replication.user, 'zfsadm');
});

for (const [label, name, message] of [
  ['a semicolon', 'sp1/nas/vol0;reboot', /must not contain ";"/],
  ['a space', 'sp1/nas/vol 0', /must not contain " "/],
  ['..', 'sp1/nas/../vol0', /'\.\.'/],
  ['a $() substitution', 'sp1/$(reboot)', /must not contain/],
  ['a leading dash component', 'sp1/-o', /must not start with '-'/],
] as const) {
  test(`a dataset name with ${label} is rejected at its path`, () => {
    assertRejected(withChange([...DATASET, 'name'], name), 'hosts[1].storageVm.datasets[0].name', message);
  });
}

test('a host name with _ or a leading - is rejected', () => {
  assertRejected(withChange(['hosts', 0, 'name'], 'vh_0'), 'hosts[0].name', /letters, digits and '-'/);
  assertRejected(withChange(['hosts', 1, 'storageVm', 'name'], '-uss1'), 'hosts[1].storageVm.name', /not starting or ending with '-'/);
});

test('host names with hyphens are accepted', () => {
  const text = withChange(['hosts', 1, 'storageVm', 'name'], 'test-san-01')
    .replace('vm: uss1,', 'vm: test-san-01,');
  const result = parseInventory(text);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems));
});

test('a log vdev with no device is rejected', () => {
  assertRejected(withChange(['hosts', 1, 'storageVm', 'pool', 'log', 0], {}), 'hosts[1].storageVm.pool.log[0]', /choose a disk by disk/);
});

test('a replication target that is not a known storage VM is rejected', () => {
  assertRejected(withChange([...DATASET, 'replicateTo', 'vm'], 'uss9'), 'hosts[1].storageVm.datasets[0].replicateTo.vm', /"uss9" is not a storage VM.*"uss1", "uss2"/);
});

test('a replication target outside the target VM pool is rejected', () => {
  assertRejected(withChange([...DATASET, 'replicateTo', 'dataset'], 'sp9/nas/vol0'), 'hosts[1].storageVm.datasets[0].replicateTo.dataset', /not in uss2's pool "sp2"/);
});

test('a schedule that is not valid cron is rejected', () => {
  assertRejected(withChange(['replication', 'schedule', 'cron'], '61 23 * * *'), 'replication.schedule.cron', /minute value 61 is outside 0-59/);
  assertRejected(withChange(['replication', 'schedule', 'cron'], '59 23 * *'), 'replication.schedule.cron', /five fields/);
});

test('a time zone that does not exist is rejected', () => {
  assertRejected(withChange(['replication', 'schedule', 'timezone'], 'America/Springfield'), 'replication.schedule.timezone', /not an IANA time zone/);
});

test('a credential given inline is rejected and the secret is not echoed', () => {
  const text = withChange(['credentials', 'vcenter'], { user: 'administrator@vsphere.local', password: 'hunter2' });
  const problem = assertRejected(text, 'credentials.vcenter.password', /must not be written inline; name it with passwordEnv/);
  assert.doesNotMatch(JSON.stringify(problems(text)), /hunter2/);
  assert.ok(problem.line);
});

test('an unknown key is an error naming the key, not silently ignored', () => {
  const text = exampleText.replace('      memoryGiB: 4                 # dedup', '      memoryGib: 4                 # dedup');
  const found = problems(text);
  const unknown = found.find((p) => p.path === 'hosts[1].storageVm.memoryGib');
  assert.ok(unknown, JSON.stringify(found));
  assert.match(unknown.message, /unknown key "memoryGib"/);
  assert.equal(unknown.line, exampleText.split('\n').findIndex((l) => l.includes('memoryGiB: 4                 # dedup')) + 1);
  assert.ok(found.some((p) => p.path === 'hosts[1].storageVm.memoryGiB' && /required/.test(p.message)));
});

test('ssh ciphers: AES-GCM first by default; a name that is not a cipher is rejected before any shell sees it', () => {
  const parsed = parseInventory(exampleText, 'inv.yaml');
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.ok && parsed.inventory.replication.sshCiphers.slice(0, 1), ['aes128-gcm@openssh.com']);
  assertRejected(withChange(['replication', 'sshCiphers'], ['aes128-ctr', 'aes128-ctr -oProxyCommand=sh']), 'replication.sshCiphers[1]', /OpenSSH cipher with integrity/);
  for (const weak of ['none', '3des-cbc', 'aes128-cbc', 'arcfour']) {
    assertRejected(withChange(['replication', 'sshCiphers'], [weak]), 'replication.sshCiphers[0]', /aes128-gcm@openssh.com, aes256-gcm/);
  }
  assertRejected(withChange(['replication', 'sshCiphers'], []), 'replication.sshCiphers', /.+/);
});

test('a typo in a replication setting is an error', () => {
  assertRejected(withChange(['replication', 'retension'], { daily: 7 }), 'replication.retension', /unknown key/);
});

test('malformed YAML is reported with its line', () => {
  const lines = exampleText.split('\n');
  const at = lines.findIndex((l) => l.includes('cpus: 2'));
  lines[at] = '      cpus: [2';
  const found = problems(lines.join('\n'));
  assert.ok(found.length > 0);
  assert.match(found[0]!.message, /^YAML: /);
  assert.ok(found[0]!.line! >= at + 1, `line ${found[0]!.line} should be at or after ${at + 1}`);
});

test('every problem is reported at once', () => {
  const doc = parseDocument(withChange([...DATASET, 'name'], 'sp1/a b'));
  doc.setIn(['replication', 'schedule', 'timezone'], 'Nowhere/Land');
  doc.setIn(['hosts', 3, 'name'], 'vh_3');
  const paths = problems(doc.toString()).map((p) => p.path);
  for (const expected of ['hosts[1].storageVm.datasets[0].name', 'replication.schedule.timezone', 'hosts[3].name']) {
    assert.ok(paths.includes(expected), `${expected} in ${paths.join(', ')}`);
  }
});

