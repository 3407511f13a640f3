/**
 * Building a lab from nothing: the lab dir with its marker and client key, a claimed network, the
 * private mount for namespace files, every host and the hypervisors' storage clients in parallel,
 * then known_hosts, the inventory and state.json (last: its presence means "built"). build.json records each step's claim first, so
 * teardown can clean up whatever a crash left.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SSHD, ZFS_FUSE } from './daemons';
import type { DiskLayout } from './disks';
import { must } from './exec';
import { buildHost } from './host';
import { addStorageClients } from './hypervisors';
import { inventoryYaml, labInventory } from './inventory';
import { bridgeName, claimNetwork, gatewayOf, netnsPrefix, PREFIX_LENGTH, storageBridgeName, storageSubnetOf, subnetOf, vmkernelAddressOf } from './network';
import {
  buildPath, MARKER, statePath, writeJson, type BuildRecord, type LabHostState, type LabState, type LabStorageClient,
} from './state';

export async function build(dir: string, names: string[], disks: DiskLayout): Promise<LabState> {
  await preflight();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, MARKER), `esxi-zfs storage-host lab; labDown deletes this dir\n`);
  const privateKeyFile = path.join(dir, 'id_ed25519');
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `esxi-zfs-lab@${path.basename(dir)}`, '-f', privateKeyFile]);
  const clientKey = fs.readFileSync(`${privateKeyFile}.pub`, 'utf8').trim();

  const index = await claimNetwork(dir, (i) => writeJson(buildPath(dir), { index: i, hosts: [] } satisfies BuildRecord));
  const record: BuildRecord = { index, hosts: [] };
  writeJson(buildPath(dir), record);

  // The persistent namespace files must sit on a private mount (see unshare(1)).
  const nsDir = path.join(dir, 'ns');
  fs.mkdirSync(nsDir);
  await must('mount', ['--bind', nsDir, nsDir]);
  await must('mount', ['--make-private', nsDir]);

  const [clients, ...hosts] = await Promise.all([
    addStorageClients(index, names.length),
    ...names.map((name, j) => {
      record.hosts.push(name);
      writeJson(buildPath(dir), record);
      return buildHost({ dir, index, name, j, clientKey, disks });
    }),
  ]);
  return writeLabFiles(dir, index, privateKeyFile, hosts, clients);
}

async function preflight(): Promise<void> {
  for (const file of [SSHD, ZFS_FUSE, '/usr/sbin/zpool', '/usr/bin/nsenter', '/usr/bin/unshare', '/usr/bin/ssh-keygen', '/usr/sbin/ifup']) {
    if (!fs.existsSync(file)) throw new Error(`the lab needs ${file} (Debian packages openssh-server, zfs-fuse, util-linux, ifupdown)`);
  }
  if (!fs.existsSync('/dev/fuse')) throw new Error('the lab needs /dev/fuse for zfs-fuse');
  if (!fs.existsSync('/var/lib/zfs')) throw new Error('the lab needs /var/lib/zfs (zfs-fuse keeps zpool.cache there); it is bound per host');
  if (process.getuid?.() !== 0) throw new Error('the lab must run as root (namespaces, mounts, links)');
}

/** known_hosts, inventory.yaml and, last, state.json. */
function writeLabFiles(
  dir: string,
  index: number,
  privateKeyFile: string,
  hosts: LabHostState[],
  clients: { hypervisors: LabStorageClient[]; outsider: LabStorageClient },
): LabState {
  const knownHostsFile = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHostsFile, hosts.map((h) => `${h.name},${h.address} ${h.hostKey}\n`).join(''));
  const inventoryFile = path.join(dir, 'inventory.yaml');
  // A spare disk belongs to no pool of the inventory.
  const poolDisks = hosts.map((h, j) => ({
    ...h,
    vmkernelAddress: vmkernelAddressOf(index, j),
    disks: h.disks.flatMap((d) => (d.role === 'spare' ? [] : [{ path: d.path, role: d.role }])),
  }));
  const inventory = labInventory({ privateKeyFile, prefixLength: PREFIX_LENGTH, hosts: poolDisks });
  fs.writeFileSync(
    inventoryFile,
    inventoryYaml(inventory, ` The storage-host lab in ${dir}, written by lab/lab.ts on every lab build: edits are overwritten.\n Host keys are the lab hosts' own; ${knownHostsFile} pins the same keys for the ssh client.`),
  );
  const state: LabState = {
    dir,
    bridge: bridgeName(index),
    gateway: gatewayOf(index),
    subnet: subnetOf(index),
    privateKeyFile,
    hosts,
    inventoryFile,
    index,
    netnsPrefix: netnsPrefix(index),
    knownHostsFile,
    storageBridge: storageBridgeName(index),
    storageSubnet: storageSubnetOf(index),
    hypervisors: clients.hypervisors,
    outsider: clients.outsider,
    createdAt: new Date().toISOString(),
  };
  writeJson(statePath(dir), state);
  return state;
}
