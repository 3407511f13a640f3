/**
 * The inventory file (apiVersion esxi-zfs/v1): zod schema. Every object is strict, so a typo in a
 * key is an error rather than a silently ignored setting. Cross-references between sections
 * (credentials, storage VMs, hosts) are checked in references.ts.
 */
import { z } from 'zod';
import { CronExpressionParser } from 'cron-parser';
import { OS_PROFILES } from '../core/hosts';
import {
  absolutePath, checked, cidr, datasetName, hostName, ipv4, poolName, userName,
} from './fields';

const INLINE_SECRET_KEYS = ['password', 'privateKey', 'passphrase', 'secret', 'token'] as const;

/** A credential is named here and resolved by activities; the secret itself never appears in the file. */
export const credential = z
  .strictObject({
    user: z.string().min(1),
    privateKeyFile: z.string().min(1).optional(),
    privateKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    passphraseEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
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
  });

const credentialName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'credential names use letters, digits, _ . -');

const sshHostKey = z
  .string()
  .regex(
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) [A-Za-z0-9+/]+={0,2}$/,
    'must be a pinned public host key like "ssh-ed25519 AAAA..." (the type and base64 fields of known_hosts)',
  );

const thumbprint = z
  .string()
  .regex(/^([0-9A-Fa-f]{2}:){19,31}[0-9A-Fa-f]{2}$/, 'must be a SHA-1 or SHA-256 certificate thumbprint (hex pairs separated by ":")');

export function cronProblem(expression: string): string | undefined {
  if (expression.trim().split(/\s+/).length !== 5) return 'cron must have five fields: minute hour day-of-month month day-of-week';
  try {
    CronExpressionParser.parse(expression, { strict: false });
    return undefined;
  } catch (error) {
    return `not a valid cron expression: ${(error as Error).message}`;
  }
}

export function timeZoneProblem(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return undefined;
  } catch {
    return `'${zone}' is not an IANA time zone (like America/Chicago or UTC)`;
  }
}

const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration like 90s, 30m, 2h or 1d');

export const schedule = z.strictObject({
  cron: checked(cronProblem),
  timezone: checked(timeZoneProblem),
  catchupWindow: duration.optional(),
  paused: z.boolean().optional(),
});

export const retention = z
  .strictObject({
    keep: z.int().min(1).optional(),
    hourly: z.int().min(0).optional(),
    daily: z.int().min(0).optional(),
    weekly: z.int().min(0).optional(),
    monthly: z.int().min(0).optional(),
  });

export const sendOption = z.enum(['properties', 'dedup', 'compressed', 'largeBlocks', 'embedded', 'raw']);

const retryPolicy = z.strictObject({
  maximumAttempts: z.int().min(1).optional(),
  initialInterval: duration.optional(),
  maximumInterval: duration.optional(),
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

export const replication = z.strictObject({
  user: userName.default('zfsadm'),
  snapshotPrefix: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'prefix uses letters, digits, . _ - (at most 64)')
    .default('esxi-zfs'),
  stallTimeout: duration.default('120s'),
  retry: retryPolicy.optional(),
  /**
   * The stream's ssh ciphers, most preferred first (ssh -c). AES-GCM first: with AES-NI it costs a
   * fraction of chacha20-poly1305 (OpenSSH's default), and ssh is on the stream's CPU path.
   */
  sshCiphers: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9@.-]*$/, 'an OpenSSH cipher name like aes128-gcm@openssh.com'))
    .min(1)
    .default(['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes256-ctr']),
  ...replicationPolicy,
});

const vdev = z
  .strictObject({
    disk: z.string().optional(),
    model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'model uses letters, digits, space . _ -').optional(),
  })
  .superRefine((value, ctx) => {
    const given = [value.disk, value.model].filter((v) => v !== undefined).length;
    if (given !== 1) ctx.addIssue({ code: 'custom', message: 'a vdev names exactly one device: disk (c8t1d0 or /dev/...) or model' });
    if (value.disk !== undefined && !/^(c\d+(t\d+)?d\d+(s\d+)?|\/[A-Za-z0-9._/:-]+)$/.test(value.disk)) {
      ctx.addIssue({ code: 'custom', path: ['disk'], message: 'disk must be an illumos name like c8t1d0 or an absolute device path' });
    }
  });

const pool = z.strictObject({
  name: poolName,
  data: z.array(vdev).min(1, 'a pool needs at least one data vdev'),
  log: z.array(vdev).optional(),
  cache: z.array(vdev).optional(),
  properties: z.record(z.string().regex(/^[a-z][a-z0-9_:.@-]*$/, 'property names are lower-case'), z.string()).optional(),
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

const zfsProperty = z.string().regex(/^[a-z][a-z0-9_:.]*$/, 'property names are lower-case ZFS property names');

const dataset = z.strictObject({
  name: datasetName,
  mountpoint: absolutePath.optional(),
  properties: z.record(zfsProperty, z.string().regex(/^[A-Za-z0-9_.,:=@/+-]*$/, 'property values use letters, digits and _.,:=@/+-')).optional(),
  share: share.optional(),
  datastore: datastore.optional(),
  replicateTo: z
    .strictObject({ vm: hostName, dataset: datasetName, ...replicationPolicy })
    .optional(),
});

const nic = z.strictObject({
  portGroup: z.string().min(1).max(80),
  address: cidr,
  gateway: ipv4.optional(),
});

const storageVm = z.strictObject({
  name: hostName,
  os: z.enum(OS_PROFILES),
  cpus: z.int().min(1).max(128),
  memoryGiB: z.number().positive().max(4096),
  nics: z.array(nic).min(1),
  dns: z.strictObject({ domain: hostName.optional(), servers: z.array(ipv4) }).optional(),
  /** Where file-backed disks live (the lab's sparse files); block devices are discovered too. */
  diskDirectory: absolutePath.optional(),
  ssh: z.strictObject({
    address: z.union([ipv4, hostName]),
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
  rebootTimeout: duration.default('30m'),
});

const storageNetwork = z.strictObject({
  vswitch: z.string().min(1).max(32),
  portGroup: z.string().min(1).max(80),
  vmkernel: z.strictObject({ name: z.string().min(1).max(80), address: cidr }),
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
    .strictObject({ url: z.url({ protocol: /^https?$/ }), credentials: credentialName, thumbprint: thumbprint.optional() })
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
