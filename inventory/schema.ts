/**
 * The inventory file (apiVersion esxi-zfs/v1): zod schema. Every object is strict, so a typo in a
 * key is an error rather than a silently ignored setting. Cross-references between sections
 * (credentials, storage VMs, hosts) are checked in references.ts.
 */
import { z } from 'zod';
import { OS_PROFILES } from '../core/hosts';
import { parseZfsSize } from '../core/guest/zfs-size';
import { cronProblem } from '../core/cron';
import {
  absolutePath, checked, cidr, datasetName, hostAddress, hostName, ipv4, keyFilePath, loginName, mountpoint, poolName,
  interfaceName, portGroupName, propertyValue, userName, vswitchName,
} from './fields';
import { duration, durationMs } from './duration';
import { timeZoneProblem } from './time-zone';
import { vsphereUrl } from './vsphere-url';

const INLINE_SECRET_KEYS = ['password', 'privateKey', 'passphrase', 'secret', 'token'] as const;

const environmentVariable = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name (letters, digits, _)');

/** A credential is named here and resolved by activities; the secret itself never appears in the file. */
export const credential = z
  .strictObject({
    user: loginName,
    privateKeyFile: keyFilePath.optional(),
    privateKeyEnv: environmentVariable.optional(),
    passphraseEnv: environmentVariable.optional(),
    passwordEnv: environmentVariable.optional(),
    // Listed only to give a better message than "unrecognized key".
    ...Object.fromEntries(INLINE_SECRET_KEYS.map((k) => [k, z.unknown().optional()])),
  })
  .superRefine((value, ctx) => {
    for (const key of INLINE_SECRET_KEYS) {
      if ((value as Record<string, unknown>)[key] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `a secret must not be written inline; name it with ${key === 'password' ? 'passwordEnv' : 'privateKeyFile or privateKeyEnv'} instead`,
        });
      }
    }
    if (!value.privateKeyFile && !value.privateKeyEnv && !value.passwordEnv) {
      ctx.addIssue({ code: 'custom', message: 'name one of privateKeyFile, privateKeyEnv or passwordEnv' });
    }
    if (value.privateKeyFile && value.privateKeyEnv) {
      ctx.addIssue({ code: 'custom', path: ['privateKeyEnv'], message: 'name the key once: privateKeyFile or privateKeyEnv, not both' });
    }
    if (value.passphraseEnv && !value.privateKeyFile && !value.privateKeyEnv) {
      ctx.addIssue({ code: 'custom', path: ['passphraseEnv'], message: 'a passphrase belongs to a key: name it with privateKeyFile or privateKeyEnv' });
    }
  });

const credentialName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'credential names use letters, digits, _ . - (at most 64)');

const sshHostKey = z
  .string()
  .regex(
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) [A-Za-z0-9+/]+={0,2}$/,
    'must be a pinned public host key like "ssh-ed25519 AAAA..." (the type and base64 fields of known_hosts)',
  );

const thumbprint = z
  .string()
  .regex(/^([0-9A-Fa-f]{2}:){19,31}[0-9A-Fa-f]{2}$/, 'must be a SHA-1 or SHA-256 certificate thumbprint (hex pairs separated by ":")');

export const schedule = z.strictObject({
  cron: checked(cronProblem),
  timezone: checked(timeZoneProblem),
  // Temporal refuses a catch-up window under 10 s.
  catchupWindow: duration('10s', '365d').optional(),
  paused: z.boolean().optional(),
});

const count = z.int().min(0).max(10_000);

export const retention = z
  .strictObject({
    keep: count.min(1).optional(),
    hourly: count.optional(),
    daily: count.optional(),
    weekly: count.optional(),
    monthly: count.optional(),
  })
  .superRefine((rules, ctx) => {
    if (!Object.values(rules).some((n) => n > 0)) {
      ctx.addIssue({ code: 'custom', message: 'these rules keep nothing: give keep or a period count of at least 1, or leave retention out to keep every snapshot' });
    }
  });

export const sendOption = z.enum(['properties', 'dedup', 'compressed', 'largeBlocks', 'embedded', 'raw']);

const retryPolicy = z
  .strictObject({
    maximumAttempts: z.int().min(1).max(100).optional(),
    initialInterval: duration('1s', '1h').optional(),
    maximumInterval: duration('1s', '1d').optional(),
  })
  .superRefine((retry, ctx) => {
    if (retry.initialInterval && retry.maximumInterval && durationMs(retry.maximumInterval) < durationMs(retry.initialInterval)) {
      ctx.addIssue({ code: 'custom', path: ['maximumInterval'], message: 'must not be shorter than initialInterval' });
    }
  });

const replicationPolicy = {
  schedule: schedule.optional(),
  send: z.array(sendOption).optional(),
  retention: retention.optional(),
  /** Allow `zfs rollback` of a diverged target, and then only to the newest common snapshot. */
  rollback: z.boolean().optional(),
  /** Send with -R: the dataset's children and their snapshots too. */
  recursive: z.boolean().optional(),
  /** -I (every snapshot between base and new, the default) or -i (only the new one). */
  intermediates: z.boolean().optional(),
};

/** Accounts of the OS itself (uid below 1000 on Linux and illumos): never a replication user by accident. */
const SYSTEM_ACCOUNTS = new Set([
  'root', 'daemon', 'bin', 'sys', 'adm', 'lp', 'uucp', 'nuucp', 'smmsp', 'listen', 'sync', 'games', 'man', 'mail',
  'news', 'proxy', 'www-data', 'backup', 'list', 'irc', 'gnats', 'nobody', 'noaccess', 'nobody4', 'sshd', 'operator',
  'halt', 'shutdown', 'postgres', 'webservd', 'svctag', 'dladm', 'netadm', 'netcfg', 'messagebus', 'systemd-network',
  'systemd-resolve', 'systemd-timesync', '_apt', 'ftp', 'zfssnap', 'upnp', 'xvm', 'openldap', 'unknown',
]);

const STRONG_CIPHERS = [
  'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr',
] as const;

export const replication = z.strictObject({
  user: userName.default('zfsadm'),
  /** The replication user may be an account of the OS itself (root...): an explicit choice, off by default. */
  allowSystemUser: z.boolean().default(false),
  snapshotPrefix: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'prefix uses letters, digits, . _ - (at most 64)')
    .default('esxi-zfs'),
  stallTimeout: duration('10s', '1d').default('120s'),
  retry: retryPolicy.optional(),
  /**
   * The stream's ssh ciphers, most preferred first (ssh -c). AES-GCM first: with AES-NI it costs a
   * fraction of chacha20-poly1305 (OpenSSH's default), and ssh is on the stream's CPU path.
   */
  sshCiphers: z
    .array(z.enum(STRONG_CIPHERS, { error: `an OpenSSH cipher with integrity and no known weakness: ${STRONG_CIPHERS.join(', ')}` }))
    .min(1)
    .max(STRONG_CIPHERS.length)
    .default(['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes256-ctr']),
  ...replicationPolicy,
}).superRefine((value, ctx) => {
  if (SYSTEM_ACCOUNTS.has(value.user) && !value.allowSystemUser) {
    ctx.addIssue({
      code: 'custom',
      path: ['user'],
      message: `${value.user} is an account of the OS itself: use an account of its own (like zfsadm), or set allowSystemUser: true if you mean it`,
    });
  }
});

/** 512M, 100G, 1.5T: binary units, as zpool and lsblk print them; below 8P, so a whole number of bytes. */
export const byteSize = z
  .string()
  .regex(/^[0-9]{1,7}(?:\.[0-9]{1,3})?[KMGTP]$/, { error: 'a size like 512M, 100G or 1.5T (binary units K M G T P)', abort: true })
  .refine((size) => parseZfsSize(size) !== undefined, 'a size below 8P (8192T)');

/**
 * One disk, by exact name (checked against the VM's diskDirectory in checks/storage.ts) or by what
 * the guest reports of it: model, serial, size range. Resolved on the guest; it must match exactly one.
 */
const selectorFields = {
  disk: z.string().max(1024).optional(),
  model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'model uses letters, digits, space . _ - (at most 64)').optional(),
  serial: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'serial uses letters, digits, . _ : - (at most 64)').optional(),
  size: z
    .strictObject({ min: byteSize.optional(), max: byteSize.optional() })
    .refine((range) => range.min !== undefined || range.max !== undefined, 'give min, max or both')
    .optional(),
};
export type SelectorValue = { disk?: string; model?: string; serial?: string; size?: { min?: string; max?: string } };

function selectorIssues(value: SelectorValue, ctx: z.RefinementCtx): void {
  const byReport = [value.model, value.serial, value.size].filter((v) => v !== undefined).length;
  if (value.disk !== undefined && byReport > 0) {
    ctx.addIssue({ code: 'custom', message: 'name a disk either exactly (disk) or by what it reports (model, serial, size), not both' });
  } else if (value.disk === undefined && byReport === 0) {
    ctx.addIssue({ code: 'custom', message: 'choose a disk by disk (c8t1d0, /dev/disk/by-id/...), or by model, serial or size' });
  }
  const { min, max } = value.size ?? {};
  // A malformed min or max is reported at its own path; here only the order of two sizes.
  const [low, high] = [min, max].map((size) => (size === undefined ? undefined : parseZfsSize(size)));
  if (low !== undefined && high !== undefined && low > high) {
    ctx.addIssue({ code: 'custom', path: ['size'], message: `min ${min} is larger than max ${max}` });
  }
}

/** A byteSize in bytes, as ZFS reads it. */
export function sizeBytes(size: string): number {
  const bytes = parseZfsSize(size);
  if (bytes === undefined) throw new Error(`not a byteSize: ${JSON.stringify(size)}`);
  return bytes;
}

const diskSelector = z.strictObject(selectorFields).superRefine(selectorIssues);

/** Fewest disks per group: zpool refuses fewer (raidz3 keeps three parities and one data disk). */
const GROUP_MINIMUM = { mirror: 2, raidz: 2, raidz2: 3, raidz3: 4 } as const;
type Group = keyof typeof GROUP_MINIMUM;
const GROUPS = Object.keys(GROUP_MINIMUM) as Group[];

/** A vdev: one disk (a selector), or a group `{ mirror: [...] }`, `{ raidz: [...] }`, raidz2, raidz3. */
const vdev = z
  .strictObject({
    ...selectorFields,
    ...Object.fromEntries(GROUPS.map((g) => [g, z.array(diskSelector).max(64).optional()])) as Record<Group, z.ZodOptional<z.ZodArray<typeof diskSelector>>>,
  })
  .superRefine((value, ctx) => {
    const groups = GROUPS.filter((g) => value[g] !== undefined);
    if (groups.length === 0) return selectorIssues(value, ctx);
    const fields = (['disk', 'model', 'serial', 'size'] as const).filter((f) => value[f] !== undefined);
    if (groups.length > 1 || fields.length > 0) {
      ctx.addIssue({ code: 'custom', message: `a vdev is one disk or one group (${GROUPS.join(', ')}), not ${[...groups, ...fields].join(' and ')}` });
      return;
    }
    const group = groups[0]!;
    if (value[group]!.length < GROUP_MINIMUM[group]) {
      ctx.addIssue({ code: 'custom', path: [group], message: `a ${group} needs at least ${GROUP_MINIMUM[group]} disks` });
    }
  });

export type VdevValue = z.infer<typeof vdev>;

/** A cache or spare device: one disk. Groups are named here only to say so rather than "unrecognized key". */
const singleDisk = z
  .strictObject({ ...selectorFields, ...Object.fromEntries(GROUPS.map((g) => [g, z.unknown().optional()])) })
  .superRefine((value, ctx) => {
    const groups = GROUPS.filter((g) => (value as Record<string, unknown>)[g] !== undefined);
    if (groups.length > 0) ctx.addIssue({ code: 'custom', message: `cache and spare devices are single disks, not a ${groups.join(' or ')}` });
    else selectorIssues(value, ctx);
  })
  .transform(({ disk, model, serial, size }) => ({ disk, model, serial, size }));
export const vdevKind = (v: VdevValue): 'disk' | Group => GROUPS.find((g) => v[g] !== undefined) ?? 'disk';

/** Set through their own fields, where they are checked: `mountpoint`, and `share` for sharenfs. */
const RESERVED_PROPERTIES: Record<string, string> = {
  mountpoint: 'set it with the dataset\'s mountpoint field, where it is checked',
  sharenfs: 'set it with the dataset\'s share field, where the export is checked',
  sharesmb: 'SMB shares are not managed by esxi-zfs',
};

function properties(name: z.ZodString) {
  return z.record(name, propertyValue).superRefine((props, ctx) => {
    for (const key of Object.keys(props)) {
      const why = RESERVED_PROPERTIES[key];
      if (why) ctx.addIssue({ code: 'custom', path: [key], message: `${key} is not set through properties: ${why}` });
    }
  });
}

const pool = z
  .strictObject({
    name: poolName,
    data: z.array(vdev).min(1, 'a pool needs at least one data vdev').max(64),
    log: z.array(vdev).max(16).optional(),
    cache: z.array(singleDisk).max(16).optional(),
    spares: z.array(singleDisk).max(16).optional(),
    properties: properties(z.string().regex(/^[a-z][a-z0-9_:.@-]{0,255}$/, 'pool property names are lower-case, like ashift or feature@lz4_compress')).optional(),
    /** Use disks that hold a label or an exported pool (zpool create -f). Never a disk of an imported pool. */
    force: z.boolean().default(false),
  })
  .superRefine((value, ctx) => {
    const kinds = [...new Set(value.data.map(vdevKind))];
    if (kinds.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['data'], message: `data vdevs of one kind only (zpool refuses a mismatched replication level): here ${kinds.join(', ')}` });
    }
    (value.log ?? []).forEach((v, k) => {
      const kind = vdevKind(v);
      if (kind !== 'disk' && kind !== 'mirror') ctx.addIssue({ code: 'custom', path: ['log', k, kind], message: 'a log vdev is one disk or a mirror' });
    });
  });

/**
 * Clients by name (the hypervisors' storage names, vh1-nas ...): each must resolve on the storage
 * VM (checks/references.ts; on the guest before the share is set). rw: true is read-write for
 * every client, as in the runbook; a list limits it to those. root: clients whose root stays root.
 */
const clients = z.array(hostName).max(64);
const share = z.strictObject({
  rw: z.union([z.boolean(), clients.min(1, 'an empty rw list lets no one write: say rw: false for read-only')], { error: 'rw is true, false, or a list of client names' }).default(true),
  ro: clients.optional(),
  nosuid: z.boolean().default(true),
  root: clients.default([]),
});

const datastore = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,41}$/, 'datastore names use letters, digits, . _ - (at most 42)'),
  mountOn: z.array(hostName).min(1),
  /** NFS 3 (the runbook's) or 4.1. */
  nfs: z.enum(['3', '4.1']).default('3'),
  /** How the hosts mount it (the API's HostMountMode): read-write, as the runbook does, or read-only. */
  access: z.enum(['readWrite', 'readOnly']).default('readWrite'),
});

const zfsProperty = z.string().regex(/^[a-z][a-z0-9_:.]{0,255}$/, 'property names are lower-case ZFS property names');

const dataset = z.strictObject({
  name: datasetName,
  mountpoint: mountpoint.optional(),
  properties: properties(zfsProperty).optional(),
  share: share.optional(),
  datastore: datastore.optional(),
  replicateTo: z
    .strictObject({ vm: hostName, dataset: datasetName, ...replicationPolicy })
    .optional(),
});

const nic = z.strictObject({
  portGroup: portGroupName,
  /** The guest's name for it (e1000g0, eth1, ens224); without it, the guest's interfaces in order. */
  device: interfaceName.optional(),
  address: cidr,
  gateway: ipv4.optional(),
});

const route = z.strictObject({ to: cidr, via: ipv4 });

/** A vSphere datastore's name, as the storage VM's files and the NFS datastores use it. */
const datastoreName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,41}$/, 'datastore names use letters, digits, . _ - (at most 42)');

/** A file on a datastore, as vSphere writes it: `[datastore1] iso/omnios.iso`. */
const isoPath = z
  .string()
  .regex(/^\[[A-Za-z0-9][A-Za-z0-9._-]{0,41}\] [A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}\.iso$/i, 'must be an ISO on a datastore, like "[datastore1] iso/omnios.iso" (letters, digits, . _ - /)')
  .refine((value) => !value.split(/[ /]/).includes('..'), 'must not climb out of the datastore (..)');

/** The VM's hardware version, `vmx-17`: Dynamic DirectPath I/O needs 17 or later. */
const hardwareVersion = z
  .string()
  .regex(/^vmx-(\d{1,2})$/, 'must be a hardware version like vmx-19')
  .refine((value) => Number(value.slice(4)) >= 7 && Number(value.slice(4)) <= 30, 'hardware versions run from vmx-7 to vmx-30');

/** vSphere's guest OS identifier (`solaris11_64Guest`, `debian12_64Guest`); default per os. */
const guestId = z.string().regex(/^[a-z][A-Za-z0-9]{1,40}(_64)?Guest$/, 'must be a vSphere guest id like solaris11_64Guest or debian12_64Guest');

const storageVm = z.strictObject({
  name: hostName,
  os: z.enum(OS_PROFILES),
  cpus: z.int().min(1).max(128),
  memoryGiB: z.number().positive().max(4096),
  nics: z.array(nic).min(1).max(10),
  // How buildStorageVm makes it (absent: defaults per os, see inventory/storage-vm.ts).
  /** The datastore for the VM's own files; absent: the host's only datastore that is not NFS. */
  datastore: datastoreName.optional(),
  bootDisk: z.strictObject({ sizeGiB: z.int().min(1).max(62 * 1024) }).optional(),
  iso: isoPath.optional(),
  guestId: guestId.optional(),
  hardwareVersion: hardwareVersion.optional(),
  /** The virtual NIC model; default per os: illumos e1000 (the runbook's e1000g), linux vmxnet3. */
  nicType: z.enum(['vmxnet3', 'e1000']).optional(),
  /** How long the built VM may take to show its management address and answer SSH. */
  guestTimeout: duration('1m', '1d').optional(),
  /** How long recoverDatastores waits for the VM's NFS exports to answer after a reboot (default 15m). */
  exportsTimeout: duration('10s', '1d').optional(),
  routes: z.array(route).max(32).optional(),
  dns: z.strictObject({ domain: hostName.optional(), servers: z.array(ipv4).max(3) }).optional(),
  /** Where file-backed disks live (the lab's sparse files); block devices are discovered too. */
  diskDirectory: absolutePath.optional(),
  ssh: z.strictObject({
    address: hostAddress,
    port: z.int().min(1).max(65535).optional(),
    credentials: credentialName,
    hostKey: sshHostKey,
  }),
  pool,
  datasets: z.array(dataset).default([]),
}).superRefine((value, ctx) => {
  const own = value.datasets.flatMap((d) => (d.datastore ? [d.datastore.name] : []));
  if (value.datastore !== undefined && own.includes(value.datastore)) {
    ctx.addIssue({ code: 'custom', path: ['datastore'], message: `${value.datastore} is served by this VM itself: its files must live on a datastore that is there before it boots` });
  }
  if (value.iso?.startsWith('[') && own.includes(value.iso.slice(1, value.iso.indexOf(']')))) {
    ctx.addIssue({ code: 'custom', path: ['iso'], message: 'the ISO is on a datastore this VM serves: it cannot boot from it' });
  }
});

const pciId = z.string().regex(/^0x[0-9a-fA-F]{4}$/, 'must be a 16-bit hex id like 0x19e3');

const passthrough = z.strictObject({
  device: z
    .strictObject({
      address: z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, 'must be a PCI address like 0000:05:00.0').optional(),
      vendorId: pciId.optional(),
      deviceId: pciId.optional(),
      classId: pciId.optional(),
    })
    .superRefine((value, ctx) => {
      if (!value.address && !value.vendorId && !value.deviceId && !value.classId) {
        ctx.addIssue({ code: 'custom', message: 'name the device by address or by vendorId/deviceId/classId' });
      }
    }),
  rebootTimeout: duration('1m', '1d').default('30m'),
  /** Enter maintenance mode before the reboot (and leave it after). */
  maintenanceMode: z.boolean().default(true),
  /** The host's running VMs before the reboot: refuse (listed, for the operator to move) or power them off. */
  runningVms: z.enum(['refuse', 'powerOff']).default('refuse'),
});

const storageNetwork = z.strictObject({
  vswitch: vswitchName,
  portGroup: portGroupName,
  /** The VMkernel adapter's port group (the runbook's eSAN-Interface1). */
  /** hostName: the name storage VMs know the host by on the storage network (the runbook's vh1-nas); default <host>-nas. */
  vmkernel: z.strictObject({ name: portGroupName, address: cidr, hostName: hostName.optional() }),
});

const host = z.strictObject({
  name: hostName,
  passthrough: passthrough.optional(),
  storageNetwork: storageNetwork.optional(),
  storageVm: storageVm.optional(),
});

export const inventorySchema = z.strictObject({
  apiVersion: z.literal('esxi-zfs/v1'),
  credentials: z.record(credentialName, credential),
  vsphere: z
    .strictObject({ url: vsphereUrl, credentials: credentialName, thumbprint: thumbprint.optional() })
    .optional(),
  replication: replication.prefault({}),
  hosts: z.array(host).min(1, 'name at least one ESXi host'),
});

export type Inventory = z.infer<typeof inventorySchema>;
export type Host = z.infer<typeof host>;
export type StorageVm = z.infer<typeof storageVm>;
export type Dataset = z.infer<typeof dataset>;
export type Pool = z.infer<typeof pool>;
export type DiskSelectorValue = z.infer<typeof diskSelector>;
export type Credential = z.infer<typeof credential>;
export type RetentionRules = z.infer<typeof retention>;
export type SendOption = z.infer<typeof sendOption>;
export type Schedule = z.infer<typeof schedule>;
