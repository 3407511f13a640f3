// A session with one vSphere endpoint (an ESXi host or a vCenter): the service content, Login and
// Logout, the session cookie, and every method call made through it. The password is kept only to
// log in again once when the server says the session is gone (NotAuthenticated); no error or log
// line holds it.
import { XMLParser } from 'fast-xml-parser';
import { isFault } from './vim25/fault';
import { Login, Logout, RetrieveServiceContent } from './vim25/methods';
import { buildRequest, parseResponse, type CallOptions, type MethodCall, type RoundTripper } from './vim25/soap';
import type { ManagedObjectReference, ServiceContent, UserSession } from './vim25/types';
import { HttpTransport } from './transport';
import type { TlsTrust } from './tls';

/** The newest vim25 version whose types this client writes; an older server's own version is used. */
export const CLIENT_VERSION = '8.0.3.0';
const COOKIE = 'vmware_soap_session';
const SERVICE_INSTANCE: ManagedObjectReference = { type: 'ServiceInstance', value: 'ServiceInstance' };

export interface SessionOptions {
  /** `https://vcenter.example/sdk` */
  readonly url: string;
  readonly trust: TlsTrust;
  /** Force a vim25 version rather than ask the server (`/sdk/vimServiceVersions.xml`). */
  readonly version?: string;
  /** Per call, unless a call asks for more (WaitForUpdatesEx waits longer). Default 60 s. */
  readonly timeoutMs?: number;
  /** Where warnings go (insecure TLS, plain HTTP), on every connect. */
  readonly warn?: (message: string) => void;
}

export interface Credentials {
  readonly userName: string;
  readonly password: string;
}

export class Session implements RoundTripper {
  #credentials: Credentials | undefined;
  #cookie: string | undefined;
  #userSession: UserSession | undefined;
  /** One Login again for all the calls that met NotAuthenticated at once. */
  #relogin: Promise<UserSession> | undefined;

  private constructor(
    private readonly endpoint: URL,
    private readonly transport: HttpTransport,
    readonly version: string,
    readonly serviceContent: ServiceContent,
    private readonly timeoutMs: number,
    cookie: string | undefined,
  ) {
    this.#cookie = cookie;
  }

  /** Connects (TLS checked as `trust` says), agrees on the API version and reads the service content. */
  static async connect(options: SessionOptions): Promise<Session> {
    const endpoint = new URL(options.url);
    if (endpoint.username || endpoint.password) throw new Error('vSphere URL: no user or password in the URL');
    const transport = new HttpTransport(endpoint, options.trust);
    try {
      for (const warning of transport.warnings) (options.warn ?? console.warn)(warning);
      const timeoutMs = options.timeoutMs ?? 60_000;
      const version = options.version ?? (await negotiateVersion(transport, endpoint, timeoutMs));
      let cookie: string | undefined;
      const bootstrap = {
        roundTrip: (call: MethodCall) => exchange(transport, endpoint, version, undefined, call, { timeoutMs }, (c) => { cookie = c; }),
      };
      const serviceContent = await RetrieveServiceContent(bootstrap, { _this: SERVICE_INSTANCE });
      return new Session(endpoint, transport, version, serviceContent, timeoutMs, cookie);
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  get warnings(): readonly string[] {
    return this.transport.warnings;
  }

  get userSession(): UserSession | undefined {
    return this.#userSession;
  }

  /** `InvalidLogin` (a SoapFault) for a wrong user name or password. */
  async login(credentials: Credentials): Promise<UserSession> {
    this.#userSession = await Login(this, { _this: this.sessionManager(), ...credentials });
    this.#credentials = credentials;
    return this.#userSession;
  }

  /** A session the server already dropped (NotAuthenticated) counts as logged out. */
  async logout(): Promise<void> {
    if (!this.#userSession) return;
    await Logout(this, { _this: this.sessionManager() }).catch((error: unknown) => {
      if (!isFault(error, 'NotAuthenticated')) throw error;
    });
    this.#userSession = undefined;
    this.#credentials = undefined;
    this.#cookie = undefined;
  }

  /** Logs out if logged in, and closes the connections. */
  async close(): Promise<void> {
    try {
      await this.logout();
    } finally {
      this.transport.close();
    }
  }

  async roundTrip(call: MethodCall, options: CallOptions = {}): Promise<unknown> {
    const callOptions = { timeoutMs: options.timeoutMs ?? this.timeoutMs, signal: options.signal };
    try {
      return await this.send(call, callOptions);
    } catch (error) {
      const credentials = this.#credentials;
      if (!isFault(error, 'NotAuthenticated') || !credentials || call.method === 'Login' || call.method === 'Logout') throw error;
      this.#relogin ??= this.login(credentials).finally(() => {
        this.#relogin = undefined;
      });
      await this.#relogin;
      return this.send(call, callOptions);
    }
  }

  private async send(call: MethodCall, options: CallOptions & { timeoutMs: number }): Promise<unknown> {
    return exchange(this.transport, this.endpoint, this.version, this.#cookie, call, options, (cookie) => {
      this.#cookie = cookie;
    });
  }

  private sessionManager(): ManagedObjectReference {
    const manager = this.serviceContent.sessionManager;
    if (!manager) throw new Error('this endpoint has no SessionManager');
    return manager;
  }
}

async function exchange(
  transport: HttpTransport,
  endpoint: URL,
  version: string,
  cookie: string | undefined,
  call: MethodCall,
  options: CallOptions & { timeoutMs: number },
  keepCookie?: (cookie: string) => void,
): Promise<unknown> {
  const answer = await transport.exchange({
    method: 'POST',
    url: endpoint,
    headers: {
      'Content-Type': 'text/xml; charset=utf-8',
      SOAPAction: `urn:vim25/${version}`,
      'User-Agent': 'esxi-zfs',
      ...(cookie ? { Cookie: `${COOKIE}=${cookie}` } : {}),
    },
    body: buildRequest(call),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  const newCookie = sessionCookie(answer.setCookie);
  if (newCookie !== undefined) keepCookie?.(newCookie);
  return parseResponse(call, answer);
}

function sessionCookie(setCookie: readonly string[]): string | undefined {
  for (const header of setCookie) {
    const [pair] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === COOKIE) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

const versionsParser = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'namespace' });

/** The server's vim25 version from `vimServiceVersions.xml`, capped at the newest this client knows. */
async function negotiateVersion(transport: HttpTransport, endpoint: URL, timeoutMs: number): Promise<string> {
  const url = new URL(`${endpoint.pathname.replace(/\/$/, '')}/vimServiceVersions.xml`, endpoint);
  const answer = await transport.exchange({ method: 'GET', url, headers: { 'User-Agent': 'esxi-zfs' }, timeoutMs });
  const parsed = answer.status === 200 ? (versionsParser.parse(answer.body) as VersionsDocument) : undefined;
  const server = parsed?.namespaces?.namespace?.find((ns) => ns.name === 'urn:vim25')?.version;
  if (typeof server !== 'string') {
    throw new Error(`${url.host}: cannot read the server's API version from ${url.pathname} (HTTP ${answer.status}); set the version explicitly`);
  }
  return compareVersions(String(server), CLIENT_VERSION) < 0 ? String(server) : CLIENT_VERSION;
}

interface VersionsDocument {
  namespaces?: { namespace?: { name?: string; version?: string }[] };
}

export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
