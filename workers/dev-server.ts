/**
 * The embedded Temporal: the Temporal CLI dev server (`temporal server start-dev`) on SQLite
 * under `<repo>/.data/`, so history survives restarts, with the Web UI and the product's
 * custom search attributes. Or, when TEMPORAL_ADDRESS is set, an external server.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, statSync, fstatSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { REPO_ROOT, resolveTemporalCli } from './temporal-binaries';
import { hasExited, stopper } from './child-process';
import { SearchAttribute } from '../core/search-attributes';
import { removePidFile, stopLeftoverServer, writePidFile } from './dev-server-pid';
import { temporalSecurity, type TemporalSecurity } from './config';

type CliSearchAttributeType = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/** The custom search attributes the runs carry (core/search-attributes.ts), by CLI type name. */
export const SEARCH_ATTRIBUTES: Record<string, CliSearchAttributeType> = Object.fromEntries(
  // KEYWORD_LIST -> KeywordList
  Object.values(SearchAttribute).map((key) => [key.name, key.type.toLowerCase().replace(/(?:^|_)(\w)/g, (_, c: string) => c.toUpperCase()) as CliSearchAttributeType]),
);

/** Eager activity dispatch, off by default in the server (deploy/compose/dynamicconfig sets it too). */
const EAGER_ACTIVITIES = ['system.enableActivityEagerExecution=true'];

export const DEFAULT_DB_FILE = path.join(REPO_ROOT, '.data', 'temporal.sqlite');

export interface DevServerOptions {
  /** SQLite file (default `<repo>/.data/temporal.sqlite`); its folder is created. */
  dbFile?: string;
  /** Frontend gRPC port (default 7233). */
  port?: number;
  /** Web UI port (default 8233). */
  uiPort?: number;
  /** Namespace to create at launch and report (default 'default', which always exists). */
  namespace?: string;
  /** IP the frontend and UI bind to (default 127.0.0.1). */
  ip?: string;
  /** Server log (appended; default: the db file's name with `.log`). */
  logFile?: string;
  /** The server's pid file (default: the db file's name with `.pid`). */
  pidFile?: string;
  /** How long to wait for the frontend to answer (default 30 s). */
  startTimeoutMs?: number;
  /** Search attributes registered at launch (default SEARCH_ATTRIBUTES). */
  searchAttributes?: Record<string, CliSearchAttributeType>;
  /** Temporal CLI to run (default resolveTemporalCli()). */
  cliPath?: string;
  /** The codec server the Web UI decodes payloads with (`esxi-zfs codec-server`'s URL). */
  uiCodecEndpoint?: string;
}

export interface DevServer {
  /** gRPC address, `ip:port`. */
  address: string;
  /** Web UI base URL. */
  uiUrl: string;
  namespace: string;
  pid: number;
  dbFile: string;
  logFile: string;
  /** The pid of a server on this db file that a killed worker left running, stopped before this one started. */
  replacedPid?: number;
  /** SIGTERM, wait for exit, SIGKILL after `timeoutMs` (default 10 s). Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface TemporalEndpoint {
  address: string;
  namespace: string;
  /** Web UI base URL, when known. */
  uiUrl: string | undefined;
  /** See DevServer.replacedPid. */
  replacedPid?: number;
  /** TLS and API key to connect with (an external server's; none for the embedded one). */
  security: TemporalSecurity;
  /** Stops the server if this process started it; no-op for an external one. */
  stop(): Promise<void>;
}

function hostForUrl(ip: string): string {
  if (ip === '0.0.0.0' || ip === '::' || ip === '') return '127.0.0.1';
  return ip.includes(':') ? `[${ip}]` : ip;
}

/** Whether something accepts TCP connections on host:port. */
export function isPortOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const done = (open: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether this machine lets us listen on ip:port now: 'free', 'in-use' (EADDRINUSE), or
 * another reason (e.g. EADDRNOTAVAIL: the IP is not on this machine).
 */
export function canListen(ip: string, port: number): Promise<'free' | 'in-use' | string> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      resolve(err.code === 'EADDRINUSE' ? 'in-use' : `${err.code ?? 'error'}: ${err.message}`),
    );
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

/** Whether a Temporal frontend answers at `address` (within `timeoutMs`). */
export async function temporalAnswers(address: string, timeoutMs = 2000): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    const conn = connection;
    await conn.withDeadline(Date.now() + timeoutMs, () => conn.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** The last `maxLines` lines written to `file` after byte `fromOffset`. */
function logTail(file: string, fromOffset = 0, maxLines = 15, maxBytes = 8192): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const start = Math.max(fromOffset, size - maxBytes);
    const buf = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    return lines.slice(-maxLines).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Up to `maxBytes` of `file` from byte `fromOffset`. */
function logHead(file: string, fromOffset: number, maxBytes = 64 * 1024): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(Math.max(0, Math.min(maxBytes, fstatSync(fd).size - fromOffset)));
    const n = readSync(fd, buf, 0, buf.length, fromOffset);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The error lines of a failed start (the CLI's `Error:`, ERROR/FATAL logs, a Go panic). */
function startupErrors(log: string, max = 8): string {
  const re = /^(Error:|panic:)|level=(ERROR|FATAL)|"level":"(ERROR|FATAL)"/;
  return log
    .split('\n')
    .filter((line) => re.test(line))
    .slice(0, max)
    .join('\n');
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}



/**
 * Starts `temporal server start-dev` and resolves once its frontend answers for `namespace`.
 * Fails with a one-line message when the port already serves a Temporal (use it through
 * TEMPORAL_ADDRESS instead) or is taken by something else.
 */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const dbFile = path.resolve(opts.dbFile ?? DEFAULT_DB_FILE);
  const port = opts.port ?? 7233;
  const uiPort = opts.uiPort ?? 8233;
  const namespace = opts.namespace ?? 'default';
  const ip = opts.ip ?? '127.0.0.1';
  const logFile = path.resolve(opts.logFile ?? dbFile.replace(/\.(sqlite3?|db)$/, '') + '.log');
  const pidFile = path.resolve(opts.pidFile ?? dbFile.replace(/\.(sqlite3?|db)$/, '') + '.pid');
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const searchAttributes = opts.searchAttributes ?? SEARCH_ATTRIBUTES;
  const cli = opts.cliPath ?? resolveTemporalCli();

  const host = hostForUrl(ip);
  const address = `${host}:${port}`;
  const uiUrl = `http://${host}:${uiPort}`;

  if (port === uiPort) throw new Error(`port and uiPort are both ${port}; choose two different ports`);
  const replacedPid = await stopLeftoverServer(pidFile, dbFile);
  await requireFreePorts(ip, port, uiPort, address);

  mkdirSync(path.dirname(dbFile), { recursive: true });
  mkdirSync(path.dirname(logFile), { recursive: true });
  const logOffset = fileSize(logFile);
  const logFd = openSync(logFile, 'a');

  const args = [
    'server', 'start-dev',
    '--db-filename', dbFile,
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--namespace', namespace,
    '--ip', ip,
    '--log-level', 'warn',
    // An activity scheduled by a workflow task goes back to the worker in that task's response
    // when the worker has a free slot, not through the task queue (no poll round trip per step).
    ...EAGER_ACTIVITIES.flatMap((setting) => ['--dynamic-config-value', setting]),
    ...Object.entries(searchAttributes).flatMap(([key, type]) => ['--search-attribute', `${key}=${type}`]),
    ...(opts.uiCodecEndpoint ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : []),
  ];
  let child: ChildProcess;
  try {
    // The CLI runs server and UI in this one process (no children), so a plain SIGTERM to
    // its pid stops everything. It stays in our process group: a terminal Ctrl-C reaches it.
    child = spawn(cli, args, { stdio: ['ignore', logFd, logFd], env: process.env });
  } finally {
    closeSync(logFd);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  let spawnFailure: Error | undefined;
  void spawnError.then((e) => (spawnFailure = e));

  // Never leave the server behind if this process exits without calling stop(); and should it
  // be killed before it can, the pid file lets the next start stop the server.
  if (child.pid) writePidFile(pidFile, child.pid, dbFile);
  const stopChild = stopper(child);
  const stop = async (timeoutMs?: number) => {
    await stopChild(timeoutMs);
    removePidFile(pidFile);
  };

  const fail = async (why: string): Promise<never> => {
    await stop(3_000);
    const tail = startupErrors(logHead(logFile, logOffset, 1024 * 1024)) || logTail(logFile, logOffset);
    throw new Error(`Temporal dev server ${why} (log ${logFile})${tail ? `:\n${tail}` : ''}`);
  };

  // Ready = the frontend answers for `namespace` AND it is our child answering: the CLI prints
  // its banner ("Temporal Server: host:port") only once its own listeners are up, and a child
  // that lost a race for the port exits at once. (Fallback if a future CLI changes the banner:
  // answers seen for 3 s while our child stays alive.)
  const bannerRe = new RegExp(`Temporal Server:\\s+\\S+:${port}\\b`);
  let firstAnswerAt: number | undefined;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (spawnFailure) return fail(`could not be started from ${cli}: ${spawnFailure.message}`);
    if (hasExited(child)) {
      return fail(`exited during start-up (code ${child.exitCode ?? child.signalCode})`);
    }
    if (Date.now() > deadline) return fail(`did not answer at ${address} within ${startTimeoutMs} ms`);
    if ((await isPortOpen(host, port, 250)) && (await answersFor(address, namespace))) firstAnswerAt ??= Date.now();
    if (!hasExited(child) && firstAnswerAt !== undefined) {
      if (bannerRe.test(logHead(logFile, logOffset))) break;
      if (Date.now() - firstAnswerAt > 3_000) break;
    }
    await sleep(100);
  }

  return { address, uiUrl, namespace, pid: child.pid!, dbFile, logFile, replacedPid, stop };
}

/** Both ports free on `ip`, or an error that says what holds them (a Temporal server, or another program). */
async function requireFreePorts(ip: string, port: number, uiPort: number, address: string): Promise<void> {
  const grpcPort = await canListen(ip, port);
  if (grpcPort === 'in-use') {
    if (await temporalAnswers(address)) {
      throw new Error(
        `A Temporal server is already running at ${address}: stop it, choose another port, ` +
          `or use it with TEMPORAL_ADDRESS=${address}`,
      );
    }
    throw new Error(`Port ${port} on ${ip} is already in use by another program; choose another port`);
  }
  if (grpcPort !== 'free') throw new Error(`Cannot listen on ${ip}:${port} (${grpcPort})`);
  const webPort = await canListen(ip, uiPort);
  if (webPort === 'in-use') throw new Error(`UI port ${uiPort} on ${ip} is already in use; choose another uiPort`);
  if (webPort !== 'free') throw new Error(`Cannot listen on ${ip}:${uiPort} (${webPort})`);
}

/** Whether the frontend at `address` answers for `namespace` within 2 s. */
async function answersFor(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2_000 });
    const conn = connection;
    await conn.withDeadline(Date.now() + 2_000, async () => {
      await conn.workflowService.getSystemInfo({});
      await conn.workflowService.describeNamespace({ namespace });
    });
    return true;
  } catch {
    return false; // not ready yet
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/**
 * Registers the product's search attributes in `namespace` on an external server when
 * missing (idempotent). Returns the names it added. Throws when one exists with another type.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  wanted: Record<string, CliSearchAttributeType> = SEARCH_ATTRIBUTES,
): Promise<string[]> {
  const encode = (type: CliSearchAttributeType) => {
    const key = type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase() as Parameters<
      typeof encodeSearchAttributeIndexedValueType
    >[0];
    const value = encodeSearchAttributeIndexedValueType(key);
    if (value === undefined) throw new Error(`unknown search attribute type ${type}`);
    return value;
  };
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known: Record<string, unknown> = {
    ...(existing.systemAttributes ?? {}),
    ...(existing.customAttributes ?? {}),
  };
  const missing: Record<string, ReturnType<typeof encode>> = {};
  for (const [name, type] of Object.entries(wanted)) {
    const want = encode(type);
    if (name in known) {
      if (known[name] !== want) {
        throw new Error(
          `Search attribute ${name} exists in namespace ${namespace} with another type (wanted ${type})`,
        );
      }
    } else {
      missing[name] = want;
    }
  }
  const added = Object.keys(missing);
  if (added.length > 0) {
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    } catch (err) {
      // Someone else added them concurrently: fine when they are all there now.
      const again = await connection.operatorService.listSearchAttributes({ namespace });
      if (!added.every((name) => name in (again.customAttributes ?? {}))) throw err;
    }
  }
  return added;
}

/**
 * The Temporal the product talks to: TEMPORAL_ADDRESS (namespace TEMPORAL_NAMESPACE, default
 * 'default'; UI TEMPORAL_UI_URL; TLS from temporalSecurity()) when set, with the search attributes ensured; otherwise an
 * embedded dev server started with `opts`.
 */
export async function connectOrStart(opts: DevServerOptions = {}): Promise<TemporalEndpoint> {
  const external = process.env.TEMPORAL_ADDRESS?.trim();
  if (external) {
    const namespace = process.env.TEMPORAL_NAMESPACE?.trim() || 'default';
    const security = temporalSecurity();
    let connection: Connection;
    try {
      connection = await Connection.connect({ address: external, ...security, connectTimeout: 5_000 });
    } catch (err) {
      throw new Error(`Cannot connect to TEMPORAL_ADDRESS=${external}: ${(err as Error).message}`, { cause: err });
    }
    try {
      await ensureSearchAttributes(connection, namespace);
    } finally {
      await connection.close().catch(() => undefined);
    }
    return {
      address: external,
      namespace,
      uiUrl: process.env.TEMPORAL_UI_URL?.trim() || undefined,
      security,
      stop: async () => undefined,
    };
  }
  const server = await startDevServer(opts);
  return {
    address: server.address,
    namespace: server.namespace,
    uiUrl: server.uiUrl,
    replacedPid: server.replacedPid,
    security: {},
    stop: () => server.stop(),
  };
}
