// govmomi's stock simulator (vcsim's model, not extended) on loopback HTTPS, for the vSphere
// client's tests until the lab's own simulator lands. Built from test/fixtures/vsphere/stock-sim
// (`go build`, about 80 s with a cold module cache) into .data/bin; started on a free port with
// its own user and password; stopped by its pid.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import tls from 'node:tls';

const ROOT = resolve(__dirname, '../..');
const SOURCE = join(ROOT, 'test/fixtures/vsphere/stock-sim');
export const STOCK_SIM_BINARY = join(ROOT, '.data/bin/vsphere-stock-sim');

export interface Simulator {
  readonly url: string;
  /** SHA-256 of the served certificate, read off the TLS handshake: for setting up tests only. */
  readonly thumbprint: string;
  /** The same certificate's SHA-1 thumbprint (the form older inventories hold). */
  readonly sha1Thumbprint: string;
  readonly username: string;
  readonly password: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface SimulatorOptions {
  /** `esx` (one standalone host, the default) or `vpx` (a vCenter with a cluster). */
  readonly model?: 'esx' | 'vpx';
  /** How long tasks run, in ms, by TaskInfo.name (`{ PowerOff: 400 }`): time to watch one run. */
  readonly taskDelayMs?: Readonly<Record<string, number>>;
}

/** Builds the simulator when its binary is missing or older than its source. */
export function buildStockSimulator(): string {
  const source = join(SOURCE, 'main.go');
  if (existsSync(STOCK_SIM_BINARY) && statSync(STOCK_SIM_BINARY).mtimeMs >= statSync(source).mtimeMs) return STOCK_SIM_BINARY;
  mkdirSync(join(ROOT, '.data/bin'), { recursive: true });
  execFileSync('go', ['build', '-o', STOCK_SIM_BINARY, '.'], { cwd: SOURCE, stdio: 'inherit', env: { ...process.env, GOFLAGS: '-mod=mod' } });
  return STOCK_SIM_BINARY;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const binary = buildStockSimulator();
  const username = 'esxi-zfs-test';
  const password = randomBytes(12).toString('base64url');
  const delays = Object.entries(options.taskDelayMs ?? {}).map(([method, ms]) => `${method}=${ms}`).join(',');
  const child = spawn(binary, ['-l', '127.0.0.1:0', '-username', username, '-password', password, '-model', options.model ?? 'esx', '-task-delay', delays], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = () => stopProcess(child);
  try {
    const url = await firstUrl(child);
    const { sha256, sha1 } = await servedThumbprints(new URL(url));
    return { url, thumbprint: sha256, sha1Thumbprint: sha1, username, password, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function firstUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => reject(new Error(`the simulator did not start within 30 s: ${stderr}`)), 30_000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the simulator exited (${code}): ${stderr}`)); });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolvePromise((JSON.parse(line) as { url: string }).url);
    });
  });
}

function servedThumbprints(url: URL): Promise<{ sha256: string; sha1: string }> {
  return new Promise((resolvePromise, reject) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolvePromise({ sha256: cert.fingerprint256, sha1: cert.fingerprint });
    });
    socket.once('error', reject);
  });
}

/** SIGTERM by pid, SIGKILL after 5 s. */
function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const kill = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolvePromise();
    });
    process.kill(child.pid!, 'SIGTERM');
  });
}
