// HTTP(S) exchanges with the vSphere endpoint: one POST per SOAP call, bounded in time and size.
import http from 'node:http';
import https from 'node:https';
import { agentFor, type TlsTrust } from './tls';

export interface Exchange {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly setCookie: readonly string[];
}

export interface ExchangeRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Larger answers are refused: a property collector's page is far smaller. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class TransportError extends Error {
  override name = 'TransportError';
}

export class HttpTransport {
  private readonly agent: http.Agent;
  /** Warnings to repeat on every run: TLS not verified, or no TLS. */
  readonly warnings: readonly string[];

  constructor(endpoint: URL, trust: TlsTrust) {
    if (endpoint.protocol === 'https:') {
      const choice = agentFor(trust);
      this.agent = choice.agent;
      this.warnings = choice.warning ? [choice.warning] : [];
    } else if (endpoint.protocol === 'http:') {
      this.agent = new http.Agent({ keepAlive: true });
      this.warnings = [`vSphere: plain HTTP to ${endpoint.host}: credentials cross the network unencrypted (a simulator only)`];
    } else {
      throw new TransportError(`vSphere URL: ${endpoint.protocol} is neither https: nor http:`);
    }
  }

  exchange(request: ExchangeRequest): Promise<Exchange> {
    const send = request.url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = send(request.url, {
        method: request.method,
        agent: this.agent,
        headers: { ...request.headers, ...(request.body === undefined ? {} : { 'Content-Length': Buffer.byteLength(request.body) }) },
        timeout: request.timeoutMs,
        signal: request.signal,
      });
      req.once('timeout', () => req.destroy(new TransportError(`${request.url.host}: no answer within ${request.timeoutMs} ms`)));
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) res.destroy(new TransportError(`${request.url.host}: answer larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.once('error', reject);
        res.once('end', () => {
          const setCookie = res.headers['set-cookie'] ?? [];
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
            setCookie,
          });
        });
      });
      req.end(request.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
