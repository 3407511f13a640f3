// How the client trusts the server: a pinned certificate thumbprint (the inventory's
// `vsphere.thumbprint`), a CA, or, only where asked, nothing. A pinned certificate is checked on
// the TLS handshake, before the connection is handed to HTTP, so a mismatch is refused before any
// request byte (a Login's password among them) is written.
import type { Duplex } from 'node:stream';
import https from 'node:https';
import tls from 'node:tls';

export type TlsTrust =
  | { readonly thumbprint: string }
  | { readonly ca?: string | Buffer }
  | { readonly insecure: true };

export class ThumbprintMismatchError extends Error {
  override name = 'ThumbprintMismatchError';

  constructor(
    readonly host: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${host}: the server's certificate has thumbprint ${actual}, not the pinned ${expected}: refused before sending anything`);
  }
}

export interface Thumbprint {
  readonly algorithm: 'sha1' | 'sha256';
  /** Upper-case hex pairs joined by ':', as Node's `fingerprint` and `fingerprint256` are. */
  readonly text: string;
}

/** A SHA-1 (20 pairs) or SHA-256 (32 pairs) thumbprint: hex pairs separated by ':', any case. */
export function parseThumbprint(text: string): Thumbprint {
  const pairs = text.trim().split(':');
  if (!pairs.every((pair) => /^[0-9a-fA-F]{2}$/.test(pair)) || (pairs.length !== 20 && pairs.length !== 32)) {
    throw new Error('a thumbprint is 20 (SHA-1) or 32 (SHA-256) hex pairs separated by ":"');
  }
  return { algorithm: pairs.length === 20 ? 'sha1' : 'sha256', text: pairs.join(':').toUpperCase() };
}

function certificateThumbprint(cert: tls.PeerCertificate, algorithm: Thumbprint['algorithm']): string {
  return algorithm === 'sha1' ? cert.fingerprint : cert.fingerprint256;
}

/** An agent whose every new connection must present the pinned certificate before HTTP may use it. */
class PinnedAgent extends https.Agent {
  constructor(private readonly pin: Thumbprint) {
    // No session resumption: a resumed session shows no certificate to check.
    super({ keepAlive: true, maxCachedSessions: 0 });
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    const host = String(options.host ?? options.hostname ?? '');
    const socket = tls.connect({ ...(options as tls.ConnectionOptions), rejectUnauthorized: false, session: undefined });
    const onError = (error: Error) => callback?.(error, socket);
    socket.once('error', onError);
    // The request's own timeout starts only once it has the socket: bound the handshake here.
    const handshakeMs = options.timeout ?? 30_000;
    socket.setTimeout(handshakeMs, () => socket.destroy(new Error(`${host}: no TLS handshake within ${handshakeMs} ms`)));
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      socket.removeListener('error', onError);
      const actual = certificateThumbprint(socket.getPeerCertificate(), this.pin.algorithm);
      if (actual !== this.pin.text) {
        socket.destroy();
        callback?.(new ThumbprintMismatchError(host, this.pin.text, actual || 'none'), socket);
        return;
      }
      callback?.(null, socket);
    });
    return undefined;
  }
}

export interface AgentChoice {
  readonly agent: https.Agent;
  /** Said on every connection made with it (insecure mode). */
  readonly warning?: string;
}

export function agentFor(trust: TlsTrust): AgentChoice {
  if ('thumbprint' in trust) return { agent: new PinnedAgent(parseThumbprint(trust.thumbprint)) };
  if ('insecure' in trust) {
    return {
      agent: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
      warning: "vSphere: TLS certificate NOT verified ('insecure' is set): pin the server's thumbprint instead",
    };
  }
  return { agent: new https.Agent({ keepAlive: true, rejectUnauthorized: true, ca: trust.ca }) };
}
