/**
 * The lab's vCenter: starts the vSphere simulator (lab/vsphere, built by scripts/setup.sh into
 * .data/bin/esxi-zfs-vcsim) for a set of ESXi hosts, and drives its test hooks. Tests only: product
 * code never imports lab/.
 *
 *   const sim = await startVsphereSim({ dir, hosts: [{ name: 'vh1', address: '10.213.9.1' }] });
 *   ... sim.url, sim.thumbprint, sim.username, sim.password; sim.control.setRebootSeconds('vh1', 10) ...
 *   await sim.stop();
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, terminate } from './sys';

export const VCSIM_BINARY = path.resolve(__dirname, '..', '.data', 'bin', 'esxi-zfs-vcsim');

export interface VsphereSimHost {
  name: string;
  address: string;
  storageVm?: { name: string; labHost: string; address: string; storageAddress: string };
  rebootSeconds?: number;
}

export interface VsphereSimOptions {
  /** Holds model.json, password (0600), state.json and vcsim.log; made if missing. */
  dir: string;
  hosts: VsphereSimHost[];
  username?: string;
  /** argv of the hook; the simulator appends EVENT ARGS... (lab/vsphere-hook.ts: labHookCommand(labDir)). */
  hook?: string[];
  /** Only these events run the hook (the simulator records every event); absent: all of them. */
  hookEvents?: string[];
  binary?: string;
  startTimeoutMs?: number;
}

/** What the simulator's --state file holds. */
export interface VsphereSimState {
  url: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  pid: number;
  control: string;
}

export interface SimHostState {
  name: string;
  /** The HostSystem's managed object id, like "host-21". */
  ref: string;
  connectionState: 'connected' | 'notResponding' | 'disconnected';
  inMaintenanceMode: boolean;
  bootTime: string;
  rebootSeconds: number;
  neverReturn: boolean;
  revertPassthroughOnNextReboot: boolean;
  rebooting: boolean;
  reboots: number;
  passthrough: { id: string; passthruCapable: boolean; passthruEnabled: boolean; passthruActive: boolean }[];
  vms: { name: string; powerState: string; ipAddress?: string }[];
}

export interface FailOnce {
  /** As the API names it: 'RebootHost_Task', 'UpdatePassthruConfig', ... */
  method: string;
  /** Only a call on this host (its managers, its VMs); any host when absent. */
  host?: string;
  fault: 'SystemError' | 'HostConfigFault' | 'InvalidState' | 'HostNotConnected' | 'NotFound' | 'TaskInProgress' | 'Timedout' | 'NoPermission';
  message?: string;
}

/** How an NFS datastore of a storage VM comes back after the VM was away (lab/vsphere/stale.go). */
export type StaleDatastores = 'none' | 'refresh' | 'remount';

export interface SimDatastoreState {
  name: string;
  remoteHost: string;
  remotePath: string;
  /** summary.accessible: some host has it. */
  accessible: boolean;
  /** Whether its server answers (its storage VM runs). */
  serverAnswers: boolean;
  hosts: { host: string; accessible: boolean; inaccessibleReason?: string }[];
  /** "NAME powerState" of each VM with files on it. */
  vms: string[];
  staleMode: StaleDatastores;
}

export interface VsphereSimControl {
  hosts(): Promise<SimHostState[]>;
  host(name: string): Promise<SimHostState>;
  setRebootSeconds(host: string, seconds: number): Promise<SimHostState>;
  /** true: the host stays down after its next (or current) reboot; false: it comes back now. */
  setNeverReturn(host: string, hold: boolean): Promise<SimHostState>;
  /** true: the next reboot drops pending passthrough (enabled and active false), as ESXi 8.0 may. */
  setRevertPassthrough(host: string, revert: boolean): Promise<SimHostState>;
  failOnce(rule: FailOnce): Promise<FailOnce[]>;
  /** The SDK endpoint answers 503 Service Unavailable for `seconds` (0 ends an outage); the control API stays up. */
  setUnavailable(seconds: number): Promise<{ until: string }>;
  /** Every hook event so far, like "vm-on uss1 test-san-01". */
  hookEvents(): Promise<string[]>;
  /**
   * After its storage VM stopped, a datastore stays inaccessible once the VM is back until: nothing
   * ('none': it comes back by itself), a refresh (RefreshStorageSystem, RefreshDatastore: 'refresh',
   * the default), or only a remount ('remount').
   */
  setStaleDatastores(mode: StaleDatastores): Promise<{ staleMode: StaleDatastores }>;
  /** The NFS datastores, each host's mount and the VMs on them. */
  datastores(): Promise<SimDatastoreState[]>;
}

export interface VsphereSim {
  url: string;
  /** SHA-1, colon-separated upper-case hex, as vSphere shows it. */
  thumbprint: string;
  thumbprintSha256: string;
  username: string;
  password: string;
  pid: number;
  stateFile: string;
  control: VsphereSimControl;
  stop(): Promise<void>;
}

/** Quotes argv for the simulator's --hook, which runs it through /bin/sh. */
export const shellQuote = (argv: string[]): string => argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');

export async function startVsphereSim(opts: VsphereSimOptions): Promise<VsphereSim> {
  const binary = opts.binary ?? VCSIM_BINARY;
  if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: run scripts/setup.sh (it builds lab/vsphere with Go)`);
  fs.mkdirSync(opts.dir, { recursive: true });
  const username = opts.username ?? 'administrator@vsphere.local';
  const password = randomBytes(18).toString('base64url');
  const files = {
    model: path.join(opts.dir, 'model.json'),
    password: path.join(opts.dir, 'password'),
    state: path.join(opts.dir, 'state.json'),
    log: path.join(opts.dir, 'vcsim.log'),
  };
  fs.writeFileSync(files.model, `${JSON.stringify({ hosts: opts.hosts }, null, 2)}\n`);
  fs.rmSync(files.password, { force: true });
  fs.writeFileSync(files.password, `${password}\n`, { mode: 0o600 });
  fs.rmSync(files.state, { force: true });

  const args = ['--model', files.model, '--listen', '127.0.0.1:0', '--state', files.state, '--username', username, '--password-file', files.password];
  if (opts.hook) args.push('--hook', shellQuote(opts.hook));
  if (opts.hookEvents) args.push('--hook-events', opts.hookEvents.join(','));
  const log = fs.openSync(files.log, 'a');
  let pid: number | undefined;
  try {
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', log, log], cwd: opts.dir });
    child.on('error', () => undefined);
    child.unref();
    pid = child.pid;
  } finally {
    fs.closeSync(log);
  }
  if (!pid) throw new Error(`could not start ${binary}`);
  const started = pid;
  const stop = async () => {
    const left = await terminate([started], 5000);
    if (left.length > 0) throw new Error(`the vSphere simulator (pid ${started}) would not stop`);
  };
  let state: VsphereSimState;
  try {
    state = await waitForState(files.state, started, files.log, opts.startTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const ca = await pinnedCertificate(state.control, state.thumbprintSha256);
  return {
    url: state.url, thumbprint: state.thumbprintSha1, thumbprintSha256: state.thumbprintSha256, username, password, pid: started,
    stateFile: files.state, control: controlClient(state.control, ca, username, password), stop,
  };
}

async function waitForState(file: string, pid: number, log: string, timeoutMs: number): Promise<VsphereSimState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const state = JSON.parse(fs.readFileSync(file, 'utf8')) as VsphereSimState;
      if (state.pid === pid) return state;
    } catch {
      // not written yet
    }
    const tail = () => fs.readFileSync(log, 'utf8').trim().split('\n').slice(-10).join('\n');
    if (!isAlive(pid)) throw new Error(`the vSphere simulator exited:\n${tail()}`);
    if (Date.now() > deadline) throw new Error(`the vSphere simulator wrote no ${file} in ${timeoutMs} ms:\n${tail()}`);
    await sleep(50);
  }
}

export const sha256Thumbprint = (der: Buffer): string => createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');

/** The server's certificate (PEM), fetched once and accepted only with the expected SHA-256 thumbprint. */
export function pinnedCertificate(url: string, thumbprintSha256: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      if (sha256Thumbprint(cert.raw) !== thumbprintSha256) reject(new Error(`${url}: the certificate's thumbprint is not ${thumbprintSha256}`));
      else resolve(`-----BEGIN CERTIFICATE-----\n${cert.raw.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`);
    });
    socket.on('error', reject);
  });
}

function controlClient(base: string, ca: string, username: string, password: string): VsphereSimControl {
  const call = <T>(method: string, route: string, body?: unknown) => request<T>(`${base}${route}`, method, ca, username, password, body);
  const host = (name: string) => `/hosts/${encodeURIComponent(name)}`;
  return {
    hosts: () => call<SimHostState[]>('GET', '/hosts'),
    host: (name) => call<SimHostState>('GET', host(name)),
    setRebootSeconds: (name, seconds) => call<SimHostState>('PUT', `${host(name)}/reboot-seconds`, { value: seconds }),
    setNeverReturn: (name, hold) => call<SimHostState>('PUT', `${host(name)}/never-return`, { value: hold }),
    setRevertPassthrough: (name, revert) => call<SimHostState>('PUT', `${host(name)}/revert-passthrough`, { value: revert }),
    failOnce: (rule) => call<FailOnce[]>('POST', '/fail-once', rule),
    setUnavailable: (seconds) => call<{ until: string }>('PUT', '/unavailable', { value: seconds }),
    hookEvents: () => call<string[]>('GET', '/hook-events'),
    setStaleDatastores: (mode) => call<{ staleMode: StaleDatastores }>('PUT', '/stale-datastores', { value: mode }),
    datastores: () => call<SimDatastoreState[]>('GET', '/datastores'),
  };
}

function request<T>(url: string, method: string, ca: string, username: string, password: string, body?: unknown): Promise<T> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method, ca, auth: `${username}:${password}`, agent: false,
      headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {},
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`${method} ${url}: ${res.statusCode} ${text.trim()}`));
        else resolve(JSON.parse(text) as T);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}
