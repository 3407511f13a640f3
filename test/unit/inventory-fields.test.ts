/**
 * Every inventory field that reaches a shell, a file, a command line or an API, tried with what
 * would break out of each: command substitution, separators, a newline, NUL, and a leading '-'
 * (an option to the command that receives it). Each must be refused at its own path and line, with
 * a message that says what is allowed and does not carry the payload's control characters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSeq, parseDocument } from 'yaml';
import { assertValid, exampleText, problems } from '../helpers/inventory';

const PAYLOADS = ['x$(reboot)', 'x`reboot`', 'x;reboot', 'x|reboot', 'x&&reboot', 'x\nreboot', 'x\u0000reboot', '-oProxyCommand=reboot'];

const VM = ['hosts', 1, 'storageVm'];
const DATASET = [...VM, 'datasets', 0];

/** Fields whose value is the payload: [path in the document, path as reported]. */
const VALUE_FIELDS: (string | number)[][] = [
  ['credentials', 'storage-root', 'user'],
  ['credentials', 'storage-root', 'privateKeyFile'],
  ['credentials', 'vcenter', 'user'],
  ['credentials', 'vcenter', 'passwordEnv'],
  ['vsphere', 'url'],
  ['vsphere', 'credentials'],
  ['vsphere', 'thumbprint'],
  ['replication', 'user'],
  ['replication', 'snapshotPrefix'],
  ['replication', 'stallTimeout'],
  ['replication', 'sshCiphers', 0],
  ['replication', 'schedule', 'cron'],
  ['replication', 'schedule', 'timezone'],
  ['hosts', 0, 'name'],
  ['hosts', 1, 'passthrough', 'device', 'vendorId'],
  ['hosts', 1, 'passthrough', 'rebootTimeout'],
  ['hosts', 1, 'storageNetwork', 'vswitch'],
  ['hosts', 1, 'storageNetwork', 'portGroup'],
  ['hosts', 1, 'storageNetwork', 'vmkernel', 'name'],
  ['hosts', 1, 'storageNetwork', 'vmkernel', 'address'],
  ['hosts', 1, 'storageNetwork', 'vmkernel', 'hostName'],
  [...VM, 'name'],
  [...VM, 'nics', 0, 'portGroup'],
  [...VM, 'nics', 0, 'address'],
  [...VM, 'nics', 0, 'gateway'],
  [...VM, 'nics', 0, 'device'],
  [...VM, 'routes', 0, 'to'],
  [...VM, 'routes', 0, 'via'],
  [...VM, 'dns', 'servers', 0],
  [...VM, 'dns', 'domain'],
  [...VM, 'ssh', 'address'],
  [...VM, 'ssh', 'credentials'],
  [...VM, 'ssh', 'hostKey'],
  [...VM, 'datastore'],
  [...VM, 'iso'],
  [...VM, 'guestId'],
  [...VM, 'hardwareVersion'],
  [...VM, 'nicType'],
  [...VM, 'guestTimeout'],
  [...VM, 'exportsTimeout'],
  [...VM, 'bootDisk', 'sizeGiB'],
  [...VM, 'pool', 'name'],
  [...VM, 'pool', 'data', 0, 'disk'],
  [...VM, 'pool', 'data', 0, 'model'],
  [...VM, 'pool', 'data', 0, 'serial'],
  [...VM, 'pool', 'data', 0, 'size', 'min'],
  [...VM, 'pool', 'log', 0, 'mirror', 0, 'disk'],
  [...VM, 'pool', 'cache', 0, 'serial'],
  [...VM, 'pool', 'spares', 0, 'disk'],
  [...VM, 'pool', 'properties', 'ashift'],
  [...DATASET, 'name'],
  [...DATASET, 'mountpoint'],
  [...DATASET, 'properties', 'dedup'],
  [...DATASET, 'share', 'root', 0],
  [...DATASET, 'share', 'rw', 0],
  [...DATASET, 'share', 'ro', 0],
  [...DATASET, 'datastore', 'name'],
  [...DATASET, 'datastore', 'mountOn', 0],
  [...DATASET, 'replicateTo', 'vm'],
  [...DATASET, 'replicateTo', 'dataset'],
];

/** Fields whose key is the payload (map keys that reach a command line): the parent's path. */
const KEY_FIELDS: (string | number)[][] = [
  ['credentials'],
  [...VM, 'pool', 'properties'],
  [...DATASET, 'properties'],
];

const reported = (path: (string | number)[]) =>
  path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${key}` : key), '');

function refusedAt(text: string, path: string, label: string): void {
  const found = problems(text);
  const problem = found.find((p) => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`));
  assert.ok(problem, `${label}: nothing refused at ${path}; got:\n${found.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  assert.ok(problem.line && problem.line > 1, `${label}: no line`);
  assert.doesNotMatch(problem.message, /^Invalid input$/, `${label}: the message says what is allowed`);
  assert.ok(![...problem.message].some((c) => c.charCodeAt(0) < 0x20), `${label}: no control character in the message`);
}

for (const path of VALUE_FIELDS) {
  test(`${reported(path)}: every shell payload is refused at its path`, () => {
    for (const payload of PAYLOADS) {
      const doc = parseDocument(exampleText);
      if (path.includes('properties') && !doc.hasIn(path.slice(0, -1))) doc.setIn(path.slice(0, -1), doc.createNode({}));
      // A path into a list the example does not have (or has a scalar for, like rw: true): make the list.
      const list = path.findIndex((key, i) => typeof key === 'number' && i > 0 && !isSeq(doc.getIn(path.slice(0, i), true)));
      if (list > 0) doc.setIn(path.slice(0, list), doc.createNode([]));
      doc.setIn(path, payload);
      refusedAt(doc.toString(), reported(path), `${reported(path)} = ${JSON.stringify(payload)}`);
    }
  });
}

for (const path of KEY_FIELDS) {
  test(`keys of ${reported(path)}: every shell payload is refused`, () => {
    for (const payload of PAYLOADS) {
      const doc = parseDocument(exampleText);
      const value = path[0] === 'credentials' ? { user: 'root', privateKeyEnv: 'KEY' } : 'on';
      doc.setIn([...path, payload], value);
      refusedAt(doc.toString(), reported(path), `key of ${reported(path)} = ${JSON.stringify(payload)}`);
    }
  });
}

test('the fields above accept what real inventories write', () => {
  const doc = parseDocument(exampleText);
  doc.setIn([...VM, 'nics', 0, 'portGroup'], 'VLAN-100 (prod)');
  doc.setIn(['hosts', 1, 'storageNetwork', 'vmkernel', 'name'], 'Storage Network 2');
  doc.setIn([...VM, 'pool', 'properties'], { ashift: '12', 'feature@lz4_compress': 'enabled' });
  doc.setIn([...DATASET, 'properties'], { compression: 'lz4', 'com.example:owner': 'ops-team', quota: '100G' });
  doc.setIn(['credentials', 'storage-root', 'privateKeyFile'], '/etc/esxi-zfs/id_ed25519');
  doc.setIn([...VM, 'datastore'], 'local-ssd_01.vh1');
  doc.setIn([...VM, 'iso'], '[iso-store] OmniOS/omnios-r151054.ISO');
  doc.setIn([...VM, 'guestId'], 'other5xLinux64Guest');
  doc.setIn([...VM, 'hardwareVersion'], 'vmx-21');
  assertValid(doc.toString());
});
