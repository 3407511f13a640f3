/**
 * The codec server for the Temporal Web UI (`--ui-codec-endpoint`) and CLI (`--codec-endpoint`):
 * Temporal's codec server protocol, POST /encode and POST /decode (also under a namespace segment,
 * /{namespace}/decode), each taking and answering `{"payloads": [...]}` in proto3 JSON (every
 * metadata value and the data base64). The UI calls it from the browser: CORS for the configured
 * origins only, with the UI's X-Namespace and Authorization headers allowed.
 *
 * Whoever can reach it can decrypt (and encrypt) with the keys: it binds to 127.0.0.1 unless told
 * otherwise.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Browser origins allowed to call it (the UI's, like http://127.0.0.1:8233). */
  origins: string[];
  /** Only these namespaces' requests (X-Namespace, or the path's segment) are served; absent: any. */
  namespaces?: string[];
  host?: string;
  /** 0: a free port. */
  port?: number;
}

export interface CodecServer {
  /** http://host:port, what --ui-codec-endpoint takes. */
  url: string;
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

/** Large enough for a page of history's payloads (Temporal's own limit is 2 MiB a payload). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function fromBase64(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) throw new HttpError(400, `${what} is not base64`);
  return Buffer.from(value, 'base64');
}

function fromJson(body: unknown): Payload[] {
  const payloads = (body as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(payloads)) throw new HttpError(400, 'expected {"payloads": [...]}');
  return payloads.map((p: JsonPayload, i) => {
    if (typeof p !== 'object' || p === null) throw new HttpError(400, `payloads[${i}] is not an object`);
    const metadata = Object.entries(p.metadata ?? {}).map(([key, value]) => [key, fromBase64(value, `payloads[${i}].metadata.${key}`)]);
    return { metadata: Object.fromEntries(metadata), data: p.data == null ? undefined : fromBase64(p.data, `payloads[${i}].data`) };
  });
}

function toJson(payloads: Payload[]): { payloads: JsonPayload[] } {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([key, value]) => [key, base64(value)])),
      ...(p.data != null && { data: base64(p.data) }),
    })),
  };
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** `/encode`, `/decode`, or either under one namespace segment: the operation and that namespace. */
function route(pathname: string): { op: 'encode' | 'decode'; namespace?: string } | undefined {
  const match = /^(?:\/([^/]+))?\/(encode|decode)\/?$/.exec(pathname);
  return match ? { op: match[2] as 'encode' | 'decode', namespace: match[1] && decodeURIComponent(match[1]) } : undefined;
}

export function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const origins = new Set(opts.origins.map((origin) => new URL(origin).origin));

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    res.setHeader('Vary', 'Origin');
    if (origin !== undefined) {
      if (!origins.has(origin)) throw new HttpError(403, `origin ${origin} is not allowed (allowed: ${[...origins].join(', ')})`);
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    const target = route(new URL(req.url ?? '/', 'http://codec').pathname);
    if (!target) throw new HttpError(404, 'not found: POST /encode or /decode');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    const header = req.headers['x-namespace'];
    const namespace = (Array.isArray(header) ? header[0] : header) || target.namespace;
    if (opts.namespaces && namespace !== undefined && !opts.namespaces.includes(namespace)) {
      throw new HttpError(403, `namespace ${namespace} is not served here (served: ${opts.namespaces.join(', ')})`);
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8'));
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw new HttpError(400, 'the body is not JSON');
    }
    const payloads = fromJson(body);
    let result: Payload[];
    try {
      result = target.op === 'encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
    } catch (error) {
      throw new HttpError(422, (error as Error).message);
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(toJson(result)));
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${(error as Error).message}\n`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      const { address, port } = server.address() as AddressInfo;
      resolve({
        url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
        close: () => new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}
