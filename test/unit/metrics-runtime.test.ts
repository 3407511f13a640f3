/**
 * installRuntime when its metrics address is taken: explicit, the start fails and nothing is
 * installed; the default, the worker runs without metrics and says why. (Its own file: a process
 * installs the Temporal Runtime once.)
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, test } from 'node:test';
import { Runtime } from '@temporalio/worker';
import { installRuntime } from '../../workers/observability';

let taken: net.Server;
let address: string;

before(async () => {
  taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(taken.address() as net.AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => taken.close(resolve));
  // A Runtime that never ran a worker stays up (its log forwarding keeps the process alive).
  await Runtime._instance?.shutdown();
});

test('an explicit address in use: a clear error, and no Runtime installed', () => {
  assert.throws(
    () => installRuntime({ metrics: { address, explicit: true }, logFormat: 'text' }),
    new RegExp(`^Error: metrics endpoint ${address}: .*Address already in use.*; choose another with --metrics-address or ESXI_ZFS_METRICS_ADDRESS, or turn it off with "off"$`),
  );
  assert.equal(Runtime._instance, undefined);
});

test('the default address in use: installed without metrics, with a warning that says so', () => {
  const installed = installRuntime({ metrics: { address, explicit: false }, logFormat: 'json' });
  assert.equal(installed.metricsAddress, undefined);
  assert.match(installed.metricsWarning ?? '', new RegExp(`^metrics endpoint ${address}: .*in use.*running without metrics`));
  assert.ok(Runtime._instance, 'installed');
  assert.equal(Runtime._instance.options.runtimeOptions.metricsExporter ?? null, null, 'no exporter');
});
