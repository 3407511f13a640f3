/**
 * docker-compose.yml against the Compose Specification's JSON schema (no Docker engine runs here),
 * and what the deployment promises: ports on localhost only, healthchecks and ordered start-up,
 * images pinned to the Temporal server the tests run (never auto-setup), the worker built from the
 * Dockerfile, the SSH key as a secret and no password in the file.
 *
 * test/fixtures/compose-spec.json is the schema as published by the Compose Specification:
 * https://github.com/compose-spec/compose-spec/blob/a08f8d51631b7127ddac3d2c65537db429d0f1d0/schema/compose-spec.json
 * (its last change, 2025-10-28; still the newest on 2026-06-23), unmodified.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../workers/dev-server';
import { resolveTemporalCli } from '../../workers/temporal-binaries';

const REPO = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  ports?: (string | { host_ip?: string })[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string | null>;
  volumes?: string[];
  secrets?: { source: string; target: string }[];
  restart?: string;
  entrypoint?: string[];
  user?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
}

const text = read('docker-compose.yml');
// `<<:` merge keys, as Compose reads them.
const compose = parse(text, { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);
const dockerfile = read('Dockerfile');

function composeValidator() {
  const ajv = new Ajv({ allErrors: true, strictTypes: false });
  addFormats(ajv);
  // The schema names draft-07 by its https address, which Ajv knows by its http one.
  ajv.addMetaSchema(draft07, 'https://json-schema.org/draft-07/schema');
  return ajv.compile(JSON.parse(read('test/fixtures/compose-spec.json')) as object);
}
const validate = composeValidator();

test('docker-compose.yml is valid under the Compose Specification schema', () => {
  assert.equal(validate(compose), true, JSON.stringify(validate.errors, null, 2));
});

test('the schema check catches what Compose would refuse', () => {
  const broken = parse(text, { merge: true }) as { services: Record<string, Record<string, unknown>> };
  broken.services.temporal!.healthcheck = { test: ['CMD', 'true'], interval: 5 };
  broken.services.worker!.depends_on = { 'temporal-namespace': { condition: 'service_done' } };
  broken.services.worker!.secret = ['storage-ssh-key'];
  assert.equal(validate(broken), false);
  const where = validate.errors!.map((e) => `${e.instancePath} ${e.message}`).join('\n');
  assert.match(where, /\/services\/temporal\/healthcheck\/interval must be string/);
  assert.match(where, /\/services\/worker\/depends_on\/temporal-namespace\/condition must be equal to one of the allowed values/);
  assert.match(where, /\/services\/worker must NOT have additional properties/);
});

test('every published port is bound to 127.0.0.1', () => {
  const published = services.flatMap(([name, s]) => (s.ports ?? []).map((p) => [name, p] as const));
  assert.deepEqual(published.map(([name]) => name).sort(), ['temporal', 'temporal-ui', 'worker']);
  for (const [name, port] of published) {
    const ip = typeof port === 'string' ? port.split(':')[0] : port.host_ip;
    assert.equal(ip, '127.0.0.1', `${name} publishes ${JSON.stringify(port)}`);
  }
  assert.ok(compose.services.worker!.ports!.includes('127.0.0.1:9464:9464'), 'the worker\'s metrics port');
});

test('start-up is ordered: db healthy -> schema job done -> server healthy -> namespace job done -> UI and worker', () => {
  const after = (name: string) => Object.fromEntries(Object.entries(compose.services[name]!.depends_on ?? {}).map(([dep, { condition }]) => [dep, condition]));
  assert.deepEqual(after('temporal-schema'), { postgresql: 'service_healthy' });
  assert.deepEqual(after('temporal'), { 'temporal-schema': 'service_completed_successfully' });
  assert.deepEqual(after('temporal-namespace'), { temporal: 'service_healthy' });
  assert.deepEqual(after('temporal-ui'), { 'temporal-namespace': 'service_completed_successfully' });
  assert.deepEqual(after('worker'), { 'temporal-namespace': 'service_completed_successfully' });
});

test('long-running services have healthchecks (the worker\'s is its image\'s); jobs run once and restart only on failure', () => {
  const jobs = ['temporal-schema', 'temporal-namespace'];
  for (const [name, s] of services) {
    if (jobs.includes(name)) {
      assert.match(s.restart ?? '', /^on-failure/, name);
      assert.equal(s.healthcheck, undefined, name);
    } else {
      assert.equal(s.restart, 'unless-stopped', name);
      if (name !== 'worker') assert.ok(s.healthcheck?.test.length, `${name} has no healthcheck`);
    }
  }
  assert.match(dockerfile, /^HEALTHCHECK .*\n?.*CMD /m);
});

test('images are pinned to exact versions, Temporal\'s to the server the tests run; no auto-setup', () => {
  const cli = execFileSync(resolveTemporalCli(), ['--version'], { encoding: 'utf8' });
  const [, server, ui] = /\(Server (\d+\.\d+\.\d+), UI (\d+\.\d+\.\d+)\)/.exec(cli) ?? [];
  assert.ok(server && ui, `unexpected \`temporal --version\`: ${cli}`);
  const images = Object.fromEntries(services.map(([name, s]) => [name, s.image]));
  assert.equal(images['temporal'], `temporalio/server:${server}`);
  assert.equal(images['temporal-schema'], `temporalio/admin-tools:${server}`);
  assert.equal(images['temporal-namespace'], `temporalio/admin-tools:${server}`);
  assert.equal(images['temporal-ui'], `temporalio/ui:${ui}`);
  assert.match(images['postgresql']!, /^postgres:\d+\.\d+(-\w+)?$/);
  assert.doesNotMatch(text, /auto-setup/);
});

test('the worker is built from the Dockerfile and tagged with the package\'s version', () => {
  const worker = compose.services.worker!;
  const { version } = JSON.parse(read('package.json')) as { version: string };
  assert.deepEqual(worker.build, { context: '.', dockerfile: 'Dockerfile' });
  assert.equal(worker.image, `esxi-zfs:${version}`);
  assert.equal(worker.entrypoint, undefined);
});

test('the one SSH key is a secret, no home directory is mounted, no password is in the file', () => {
  const worker = compose.services.worker!;
  assert.deepEqual(worker.secrets, [{ source: 'storage-ssh-key', target: 'storage-ssh-key' }]);
  assert.match(compose.secrets['storage-ssh-key']!.file, /^\$\{ESXI_ZFS_SSH_KEY:\?/);
  assert.equal(worker.volumes, undefined);
  assert.doesNotMatch(text, /\.ssh|~\//);
  for (const [name, s] of services) {
    for (const [key, value] of Object.entries(s.environment ?? {})) {
      if (/PASSWORD|PWD|SECRET|API_KEY/.test(key)) {
        assert.ok(value === null || /^\$\{TEMPORAL_DB_PASSWORD:\?/.test(value), `${name}.${key} is written in the file`);
      }
    }
  }
  assert.equal(worker.environment!.VSPHERE_PASSWORD, null, 'passed through from the shell by name');
  assert.equal(worker.user, '${ESXI_ZFS_UID:-1000}:${ESXI_ZFS_GID:-1000}');
});

test('the namespace job creates the search attributes the runs carry (core/search-attributes.ts)', () => {
  const env = compose.services['temporal-namespace']!.environment!;
  const pairs = Object.fromEntries(env.ESXI_ZFS_SEARCH_ATTRIBUTES!.split(/\s+/).map((p) => p.split('=') as [string, string]));
  assert.deepEqual(pairs, SEARCH_ATTRIBUTES);
  assert.equal(env.TEMPORAL_NAMESPACE, compose.services.worker!.environment!.TEMPORAL_NAMESPACE);
});

test('the Dockerfile: two stages, the build at build time, production dependencies only, non-root, Node 22+', () => {
  const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\w+))?$/gm)];
  assert.equal(stages.length, 2);
  const base = /^ARG NODE_IMAGE=node:(\d+)-bookworm-slim$/m.exec(dockerfile);
  assert.ok(base && Number(base[1]) >= 22, 'Node 22 or newer (20 is past its end of life)');
  const [build, runtime] = dockerfile.split(/^FROM .*$/m).slice(1);
  assert.match(build!, /^RUN npm run build$/m);
  assert.match(runtime!, /^RUN npm ci --omit=dev /m);
  assert.match(runtime!, /^COPY --from=build \/src\/dist dist$/m);
  assert.match(runtime!, /^USER node$/m);
  assert.match(runtime!, /^EXPOSE 9464$/m);
  assert.match(runtime!, /^CMD \["esxi-zfs", "worker"\]$/m);
  const ignore = read('.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'));
  assert.equal(ignore[0], '*', 'the build context is an allow-list');
  assert.ok(!ignore.some((l) => /\.data|\.ssh|node_modules|examples/.test(l) && l.startsWith('!')));
});
