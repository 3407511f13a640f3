/**
 * The inventory file (apiVersion esxi-zfs/v1): zod schema. Every object is strict, so a typo in a
 * key is an error rather than a silently ignored setting. Cross-references between sections
 * (credentials, storage VMs, hosts) are checked in references.ts.
 */
import { z } from 'zod';
import { OS_PROFILES } from '../core/hosts';
import { cronProblem } from '../core/cron';
import {
  absolutePath, checked, cidr, datasetName, hostAddress, hostName, ipv4, keyFilePath, loginName, mountpoint, poolName,
  portGroupName, propertyValue, userName, vswitchName,
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

/** A vdev's disk is checked against its VM's diskDirectory in checks/storage.ts. */
const vdev = z
  .strictObject({
    disk: z.string().max(1024).optional(),
    model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'model uses letters, digits, space . _ - (at most 64)').optional(),
  })
  .superRefine((value, ctx) => {
    const given = [value.disk, value.model].filter((v) => v !== undefined).length;
    if (given !== 1) ctx.addIssue({ code: 'custom', message: 'a vdev names exactly one device: disk (c8t1d0 or /dev/...) or model' });
  });

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

const pool = z.strictObject({
  name: poolName,
  data: z.array(vdev).min(1, 'a pool needs at least one data vdev'),
  log: z.array(vdev).optional(),
  cache: z.array(vdev).optional(),
  properties: properties(z.string().regex(/^[a-z][a-z0-9_:.@-]{0,255}$/, 'pool property names are lower-case, like ashift or feature@lz4_compress')).optional(),
});

const share = z.strictObject({
  rw: z.boolean().default(true),
  nosuid: z.boolean().default(true),
  root: z.array(hostName).default([]),
});

const datastore = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,41}$/, 'datastore names use letters, digits, . _ - (at most 42)'),
  mountOn: z.array(hostName).min(1),
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
  address: cidr,
  gateway: ipv4.optional(),
});

const storageVm = z.strictObject({
  name: hostName,
  os: z.enum(OS_PROFILES),
  cpus: z.int().min(1).max(128),
  memoryGiB: z.number().positive().max(4096),
  nics: z.array(nic).min(1).max(10),
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
});

const storageNetwork = z.strictObject({
  vswitch: vswitchName,
  portGroup: portGroupName,
  /** The VMkernel adapter's port group (the runbook's eSAN-Interface1). */
  vmkernel: z.strictObject({ name: portGroupName, address: cidr }),
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
export type Credential = z.infer<typeof credential>;
export type RetentionRules = z.infer<typeof retention>;
export type SendOption = z.infer<typeof sendOption>;
export type Schedule = z.infer<typeof schedule>;
