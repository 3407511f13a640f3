import type { Command } from 'commander';
import { AesGcmCodec } from '../../workers/codec/aes-gcm';
import { CODEC_KEYS_ENV, CODEC_KEYS_FILE_ENV, loadCodecKeys } from '../../workers/codec/keys';
import { startCodecServer } from '../../workers/codec/server';
import { temporalNamespace, temporalUiUrl } from '../../workers/config';

interface CodecServerCliOptions {
  host: string;
  port: number;
  origin?: string[];
}

/** The UI's origin, and its twin under the other loopback name: a browser may be on either. */
function defaultOrigins(): string[] {
  const ui = new URL(temporalUiUrl());
  const twin = { '127.0.0.1': 'localhost', localhost: '127.0.0.1' }[ui.hostname];
  return [ui.origin, ...(twin ? [`${ui.protocol}//${twin}:${ui.port}`] : [])].map((origin) => new URL(origin).origin);
}

export function registerCodecServer(program: Command): void {
  program
    .command('codec-server')
    .description(`serve the payload codec to the Temporal UI (--ui-codec-endpoint) and CLI (--codec-endpoint), with the keys of ${CODEC_KEYS_ENV} or ${CODEC_KEYS_FILE_ENV}`)
    .option('--host <ip>', 'address to bind (whoever reaches it can decrypt)', '127.0.0.1')
    .option('--port <n>', 'port', Number, 8081)
    .option('--origin <url...>', 'browser origins allowed to call it (default the origin of TEMPORAL_UI_URL, default http://127.0.0.1:8233, and its localhost twin)')
    .action(async (options: CodecServerCliOptions) => {
      const keys = loadCodecKeys();
      if (!keys) throw new Error(`the payload codec is off: set ${CODEC_KEYS_ENV} or ${CODEC_KEYS_FILE_ENV} (see README, "Payload encryption")`);
      const origins = options.origin ?? defaultOrigins();
      const namespace = temporalNamespace();
      const server = await startCodecServer({ codec: new AesGcmCodec(keys), origins, namespaces: [namespace], host: options.host, port: options.port });
      console.log(`codec server on ${server.url} (namespace ${namespace}, encrypting with key id ${keys.encryptWith}, ${keys.keys.size} key(s); origins ${origins.join(', ')})`);
      console.log(`Temporal UI: --ui-codec-endpoint ${server.url} (esxi-zfs worker --ui-codec-endpoint ${server.url}); temporal CLI: --codec-endpoint ${server.url}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
