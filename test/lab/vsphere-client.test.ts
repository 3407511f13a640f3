/**
 * The vSphere client against govmomi's stock simulator (test/helpers/vsphere-sim.ts) over real
 * HTTPS and SOAP: TLS pinning, Login, properties, WaitForUpdatesEx, tasks, faults, networking,
 * NFS datastores, VM creation and reconfiguration. The stock simulator has no
 * HostPciPassthruSystem, RebootHost_Task, AddVirtualNic or ReconfigureAutostart: those wait for the
 * lab's own simulator (issue 11); their request bodies are checked in test/unit/vsphere-requests.
 *
 *   node --import tsx --test test/lab/vsphere-client.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { findByName, findOne, listEntities } from '../../activities/vsphere/object/finder';
import { HostSystem } from '../../activities/vsphere/object/host-system';
import { retrieveOne, waitForProperties } from '../../activities/vsphere/object/property-collector';
import { waitForTask } from '../../activities/vsphere/object/task';
import { createVm, VirtualMachine, vmFolder } from '../../activities/vsphere/object/virtual-machine';
import { Session, type SessionOptions } from '../../activities/vsphere/session';
import { ThumbprintMismatchError } from '../../activities/vsphere/tls';
import { isFault, SoapFault, TaskError } from '../../activities/vsphere/vim25/fault';
import { Logout, PowerOffVM_Task, PowerOnVM_Task } from '../../activities/vsphere/vim25/methods';
import { SoapProtocolError } from '../../activities/vsphere/vim25/soap';
import type { HostPortGroup, HostVirtualSwitch, NasDatastoreInfo, OptionValue, TaskInfo, VirtualDevice } from '../../activities/vsphere/vim25/types';
import { startSimulator, type Simulator } from '../helpers/vsphere-sim';
import { recorded } from '../helpers/reliability';

let sim: Simulator;
const sessions: Session[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'esxi-zfs-vsphere-'));

before(async () => {
  sim = await startSimulator({ taskDelayMs: { PowerOff: 400 } });
});

after(async () => {
  for (const session of sessions) await session.close().catch(() => undefined);
  await sim?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function connect(options: Partial<SessionOptions> = {}): Promise<Session> {
  const session = await Session.connect({ url: sim.url, trust: { thumbprint: sim.thumbprint }, ...options });
  sessions.push(session);
  return session;
}

async function loggedIn(): Promise<Session> {
  const session = await connect();
  await session.login({ userName: sim.username, password: sim.password });
  return session;
}

test('Login with the right credentials over a pinned SHA-256 or SHA-1 thumbprint; the API version is the server\'s', async () => {
  for (const thumbprint of [sim.thumbprint, sim.sha1Thumbprint.toLowerCase()]) {
    const session = await connect({ trust: { thumbprint } });
    assert.equal(session.version, '6.5');
    assert.equal(session.serviceContent.about.apiType, 'HostAgent');
    const user = await session.login({ userName: sim.username, password: sim.password });
    assert.equal(user.userName, sim.username);
    assert.equal(session.userSession?.key, user.key);
    await session.logout();
    assert.equal(session.userSession, undefined);
  }
});

test('Login with a wrong password: InvalidLogin, clear, and the password is in no message', async () => {
  const session = await connect();
  const wrong = `${sim.password}-wrong`;
  await assert.rejects(session.login({ userName: sim.username, password: wrong }), (error: Error) => {
    assert.ok(error instanceof SoapFault);
    assert.equal(error.faultType, 'InvalidLogin');
    assert.match(error.message, /^Login: InvalidLogin: Login failure$/);
    assert.ok(!JSON.stringify({ ...error, message: error.message, stack: error.stack }).includes(wrong));
    return true;
  });
});

test('a wrong thumbprint is refused at the handshake; a CA is checked; no trust at all fails', recorded('hostkey/vsphere-thumbprint', async (r) => {
  const wrong = sim.thumbprint.replace(/^../, sim.thumbprint.startsWith('00') ? '01' : '00');
  await assert.rejects(Session.connect({ url: sim.url, trust: { thumbprint: wrong } }), (error: Error) =>
    error instanceof ThumbprintMismatchError && error.actual === sim.thumbprint && error.expected === wrong);
  r.happened('The TLS handshake is refused with a ThumbprintMismatchError naming the pinned and the served thumbprints.');
  r.verified('the error carries both thumbprints');
  await assert.rejects(Session.connect({ url: sim.url, trust: { thumbprint: 'AB:CD' } }), /20 \(SHA-1\) or 32 \(SHA-256\) hex pairs/);
  // The machine's CAs do not know the simulator's self-signed certificate.
  await assert.rejects(Session.connect({ url: sim.url, trust: {} }), /self[- ]signed|unable to verify|certificate/i);
  r.verified('a certificate no CA vouches for is refused when no thumbprint is pinned');
  const session = await connect({ trust: { ca: await servedCertificatePem(new URL(sim.url)) } });
  assert.equal(session.serviceContent.about.apiType, 'HostAgent');
}));

test('insecure: allowed only when asked, and it warns on every connect', async () => {
  const warnings: string[] = [];
  for (let run = 0; run < 2; run++) {
    const session = await connect({ trust: { insecure: true }, warn: (w) => warnings.push(w) });
    assert.match(session.warnings[0], /NOT verified/);
  }
  assert.equal(warnings.length, 2);
});

/** A self-signed key and certificate made by openssl for a TLS server of the test's own. */
function selfSigned(name: string): { key: Buffer; cert: Buffer } {
  const dir = join(scratch, name);
  mkdirSync(dir);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

test('a wrong thumbprint: not one byte of any request reaches the server, so never a Login password', async () => {
  const credentials = selfSigned('tls-bytes');
  const received: Buffer[] = [];
  const server = tls.createServer(credentials, (socket) => {
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/sdk`;
  try {
    await assert.rejects(Session.connect({ url, trust: { thumbprint: sim.thumbprint } }), ThumbprintMismatchError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(Buffer.concat(received).length, 0);
    // The same server with its own thumbprint pinned does receive the request: the probe above could see one.
    const own = new X509Certificate(credentials.cert).fingerprint256;
    await assert.rejects(Session.connect({ url, trust: { thumbprint: own } }), /HTTP 404/);
    assert.match(Buffer.concat(received).toString(), /^GET \/sdk\/vimServiceVersions\.xml/);
  } finally {
    server.close();
  }
});

test('a server that accepts the connection but never completes the TLS handshake: an error within the timeout', async () => {
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const started = Date.now();
  try {
    await assert.rejects(
      Session.connect({ url: `https://127.0.0.1:${(silent.address() as { port: number }).port}/sdk`, trust: { thumbprint: sim.thumbprint }, timeoutMs: 1000 }),
      /no TLS handshake within 1000 ms/,
    );
    assert.ok(Date.now() - started < 5000);
  } finally {
    silent.close();
  }
});

test('an HTML error page from the endpoint (a proxy, a starting vCenter) is a clear error, never read as SOAP', recorded('hostile/http-error-page', async (r) => {
  const credentials = selfSigned('tls-html');
  const page = readFileSync(join(__dirname, '../fixtures/vsphere/responses/error-page.html'));
  const server = https.createServer(credentials, (_req, res) => {
    res.writeHead(503, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/sdk`;
  const trust = { thumbprint: new X509Certificate(credentials.cert).fingerprint256 };
  try {
    await assert.rejects(Session.connect({ url, trust }), /cannot read the server's API version from \/sdk\/vimServiceVersions\.xml \(HTTP 503\)/);
    await assert.rejects(Session.connect({ url, trust, version: '8.0.3.0' }), (error: Error) =>
      error instanceof SoapProtocolError && error.status === 503 &&
      error.message === `RetrieveServiceContent: HTTP 503 (text/html; charset=utf-8): not a SOAP response (${page.length} bytes)`);
    r.happened('Both the version probe and the first SOAP call fail with a message naming the HTTP status, the content type and that the body is not SOAP.');
    r.verified('a SoapProtocolError with status 503; the page is never parsed as a SOAP body');
  } finally {
    server.closeAllConnections();
    server.close();
  }
}));

test('RetrievePropertiesEx of hosts and VMs through a ContainerView', async () => {
  const session = await loggedIn();
  const hosts = await listEntities(session, 'HostSystem', ['runtime.connectionState', 'hardware.pciDevice']);
  assert.equal(hosts.length, 1);
  assert.equal(hosts[0].properties['runtime.connectionState'], 'connected');
  assert.ok(Array.isArray(hosts[0].properties['hardware.pciDevice']));
  const vms = await listEntities(session, 'VirtualMachine', ['runtime.powerState', 'config.hardware.device']);
  assert.equal(vms.length, 2);
  for (const vm of vms) {
    assert.equal(vm.properties['runtime.powerState'], 'poweredOn');
    assert.ok((vm.properties['config.hardware.device'] as VirtualDevice[]).every((d) => typeof d._type === 'string' && typeof d.key === 'number'));
  }
  const [first] = vms;
  assert.deepEqual((await findOne(session, 'VirtualMachine', first.properties.name as string)).ref, first.ref);
  assert.deepEqual(await findByName(session, 'VirtualMachine', 'no such vm'), []);
  await assert.rejects(findOne(session, 'Datastore', 'no such datastore'), /no Datastore named 'no such datastore'/);
  assert.equal((await findByName(session, 'Network', 'VM Network')).length, 1);
});

test('WaitForUpdatesEx sees a power state change and a task run to its end', async () => {
  const session = await loggedIn();
  const [vm] = await listEntities(session, 'VirtualMachine', ['runtime.powerState']);
  const machine = new VirtualMachine(session, vm.ref);
  const powerOff = await machine.powerOff();
  const states: string[] = [];
  const info = await waitForTask(session, powerOff.ref, { onUpdate: (p) => { states.push((p.info as TaskInfo).state); } });
  assert.equal(info.state, 'success');
  assert.ok(states.includes('running'), `the 400 ms task was seen running: ${states.join(', ')}`);
  assert.equal((await machine.properties(['runtime.powerState']))['runtime.powerState'], 'poweredOff');

  // Power on once the wait has seen the VM off: the change then reaches it through WaitForUpdatesEx.
  const seen: unknown[] = [];
  let poweringOn: Promise<TaskInfo> | undefined;
  const result = await machine.waitFor(['runtime.powerState'], (p) => p['runtime.powerState'] === 'poweredOn', {
    maxWaitSeconds: 20,
    onUpdate: (p) => {
      seen.push(p['runtime.powerState']);
      poweringOn ??= machine.powerOn().then((task) => task.wait());
    },
  });
  assert.equal((await poweringOn)?.state, 'success');
  assert.equal(result.reached, true);
  assert.deepEqual(seen.slice(0, 1), ['poweredOff']);
  assert.equal(seen.at(-1), 'poweredOn');
});

test('a wait returns at its max wait (reached: false), and an abort stops it at once', async () => {
  const session = await loggedIn();
  const host = (await listEntities(session, 'HostSystem'))[0].ref;
  const started = Date.now();
  const updates: number[] = [];
  const result = await waitForProperties(session, host, ['runtime.inMaintenanceMode'], (p) => p['runtime.inMaintenanceMode'] === true, {
    maxWaitSeconds: 2, pollSeconds: 1, onUpdate: () => { updates.push(Date.now() - started); },
  });
  assert.equal(result.reached, false);
  assert.equal(result.properties['runtime.inMaintenanceMode'], false);
  assert.ok(Date.now() - started >= 1900 && Date.now() - started < 6000, `${Date.now() - started} ms`);
  assert.ok(updates.length >= 2, 'the callback ran between WaitForUpdatesEx calls (a heartbeat)');

  const controller = new AbortController();
  const abortedAt = Date.now();
  setTimeout(() => controller.abort(new Error('workflow cancelled')), 300);
  await assert.rejects(
    waitForProperties(session, host, ['runtime.inMaintenanceMode'], () => false, { signal: controller.signal, pollSeconds: 30 }),
    /workflow cancelled|abort/i,
  );
  assert.ok(Date.now() - abortedAt < 3000);
});

test('maintenance mode: the task and the host property it changes', async () => {
  const session = await loggedIn();
  const host = new HostSystem(session, (await listEntities(session, 'HostSystem'))[0].ref);
  await (await host.enterMaintenanceMode(0)).wait({ maxWaitSeconds: 20 });
  assert.equal((await host.properties(['runtime.inMaintenanceMode']))['runtime.inMaintenanceMode'], true);
  await (await host.exitMaintenanceMode(0)).wait({ maxWaitSeconds: 20 });
  const result = await host.waitFor(['runtime.inMaintenanceMode'], (p) => p['runtime.inMaintenanceMode'] === false, { maxWaitSeconds: 5 });
  assert.equal(result.reached, true);
});

test('a fault surfaces with its type and message: PowerOn of a powered-on VM (InvalidPowerState)', async () => {
  const session = await loggedIn();
  const vm = (await listEntities(session, 'VirtualMachine', ['runtime.powerState'])).find((v) => v.properties['runtime.powerState'] === 'poweredOn');
  assert.ok(vm);
  const task = await PowerOnVM_Task(session, { _this: vm.ref });
  await assert.rejects(waitForTask(session, task, { maxWaitSeconds: 20 }), (error: Error) => {
    assert.ok(error instanceof TaskError);
    assert.equal(error.faultType, 'InvalidPowerState');
    assert.equal(error.fault.existingState, 'poweredOn');
    assert.ok(isFault(error, 'InvalidState'));
    assert.match(error.message, /^VirtualMachine\.powerOn task-\d+: InvalidPowerState/);
    return true;
  });
});

test('NotAuthenticated: the session logs in again once and the call succeeds', async () => {
  const session = await loggedIn();
  const before = session.userSession!.key;
  await Logout(session, { _this: session.serviceContent.sessionManager! });
  const host = (await listEntities(session, 'HostSystem'))[0].ref;
  assert.equal((await retrieveOne(session, host, ['name'])).name !== undefined, true);
  assert.notEqual(session.userSession!.key, before);
  // Without credentials (never logged in) the fault is the caller's.
  const anonymous = await connect();
  await assert.rejects(PowerOffVM_Task(anonymous, { _this: { type: 'VirtualMachine', value: 'vm-12' } }), (e: Error) => isFault(e, 'NotAuthenticated'));
});

test('AddVirtualSwitch and AddPortGroup, read back; a second AddVirtualSwitch is AlreadyExists', async () => {
  const session = await loggedIn();
  const host = new HostSystem(session, (await listEntities(session, 'HostSystem'))[0].ref);
  const network = await host.networkSystem();
  await network.addVirtualSwitch('vSwitch1', { numPorts: 64, mtu: 9000 });
  await network.addPortGroup({ name: 'eSAN', vlanId: 0, vswitchName: 'vSwitch1', policy: {} });
  const info = await network.networkInfo();
  // The stock simulator keeps a new vSwitch's name only, not its spec.
  assert.ok(info.vswitch.some((v: HostVirtualSwitch) => v.name === 'vSwitch1'));
  const portgroup = info.portgroup.find((p: HostPortGroup) => p.spec.name === 'eSAN');
  assert.equal(portgroup?.spec.vswitchName, 'vSwitch1');
  await assert.rejects(network.addVirtualSwitch('vSwitch1'), (e: Error) => e instanceof SoapFault && e.faultType === 'AlreadyExists' && e.fault.name === 'vSwitch1');
  await assert.rejects(network.addPortGroup({ name: 'x', vlanId: 0, vswitchName: 'vSwitch9', policy: {} }), (e: Error) => isFault(e, 'NotFound'));
});

test('CreateNasDatastore: mounted with its remote; the same name again is DuplicateName; a missing path NotFound with its message', async () => {
  const session = await loggedIn();
  const host = new HostSystem(session, (await listEntities(session, 'HostSystem'))[0].ref);
  const datastores = await host.datastoreSystem();
  // The simulator keeps a datastore's files at its local path: it must exist on this machine.
  const localPath = join(scratch, 'uss1-nas-vol0');
  mkdirSync(localPath);
  const spec = { remoteHost: '10.0.1.41', remotePath: '/export/uss1-nas-vol0', localPath, accessMode: 'readWrite' as const, type: 'NFS' as const };
  const ref = await datastores.createNasDatastore(spec);
  assert.equal(ref.type, 'Datastore');
  assert.deepEqual((await datastores.datastores()).filter((d) => d.value === ref.value), [ref]);
  const props = await retrieveOne(session, ref, ['info', 'summary.accessible', 'summary.name']);
  const info = props.info as NasDatastoreInfo;
  assert.equal(info._type, 'NasDatastoreInfo');
  assert.equal(info.nas?.remoteHost, '10.0.1.41');
  assert.equal(info.nas?.remotePath, '/export/uss1-nas-vol0');
  assert.equal(info.nas?.type, 'NFS');
  assert.equal(props['summary.accessible'], true);
  assert.equal(props['summary.name'], 'uss1-nas-vol0');
  await assert.rejects(datastores.createNasDatastore({ ...spec, remoteHost: '10.0.1.42' }), (e: Error) =>
    e instanceof SoapFault && e.faultType === 'DuplicateName' && e.fault.name === 'uss1-nas-vol0');
  await assert.rejects(datastores.createNasDatastore({ ...spec, localPath: join(scratch, 'absent') }), (e: Error) =>
    e instanceof SoapFault && e.faultType === 'NotFound' && /no such file or directory/.test(e.message));
  // The host storage rescans answer (recoverDatastores refreshes; RescanAllHba is for block storage).
  const storage = await host.storageSystem();
  await storage.rescanAllHba();
  await storage.refreshStorageSystem();
});

test('CreateVM_Task then ReconfigVM_Task: the storage VM with a passthrough device, msiEnabled FALSE and locked memory', async () => {
  const session = await loggedIn();
  const host = new HostSystem(session, (await listEntities(session, 'HostSystem'))[0].ref);
  const folder = await vmFolder(session);
  const pool = await host.resourcePool();
  const [datastore] = await listEntities(session, 'Datastore');
  const config = {
    name: 'uss1',
    guestId: 'otherGuest64',
    files: { vmPathName: `[${datastore.properties.name as string}]` },
    numCPUs: 2,
    memoryMB: 4096,
    memoryAllocation: { reservation: 4096 },
    memoryReservationLockedToMax: true,
    deviceChange: [{
      operation: 'add' as const,
      device: {
        _type: 'VirtualE1000' as const, key: -1,
        backing: { _type: 'VirtualEthernetCardNetworkBackingInfo' as const, deviceName: 'VM Network' },
      },
    }],
  };
  const created = await (await createVm(session, folder, config, pool, host.ref)).wait({ maxWaitSeconds: 30 });
  const vm = new VirtualMachine(session, created.result as { type: string; value: string });
  assert.equal(vm.ref.type, 'VirtualMachine');
  assert.deepEqual((await VirtualMachine.find(session, 'uss1')).ref, vm.ref);

  await (await vm.reconfigure({
    extraConfig: [{ key: 'pciPassthru0.msiEnabled', value: 'FALSE' }],
    deviceChange: [{
      operation: 'add',
      device: {
        _type: 'VirtualPCIPassthrough', key: -100,
        backing: { _type: 'VirtualPCIPassthroughDeviceBackingInfo', deviceName: 'DDRdrive X1', id: '0000:03:00.0', deviceId: '1', systemId: 'sys', vendorId: 0x19e3 },
      },
    }],
  })).wait({ maxWaitSeconds: 30 });
  // The stock simulator offers no passthrough device; the list is empty, not missing.
  const target = await host.configTarget();
  assert.ok(target.numCpus > 0 && (target.datastore ?? []).length > 0);
  assert.deepEqual(target.pciPassthrough ?? [], []);

  const props = await vm.properties(['config.extraConfig', 'config.hardware.device', 'config.memoryReservationLockedToMax', 'config.hardware.numCPU']);
  const extra = props['config.extraConfig'] as OptionValue[];
  assert.equal(extra.find((o) => o.key === 'pciPassthru0.msiEnabled')?.value, 'FALSE');
  assert.equal(props['config.memoryReservationLockedToMax'], true);
  const devices = props['config.hardware.device'] as (VirtualDevice & { backing?: Record<string, unknown> })[];
  const passthrough = devices.find((d) => d._type === 'VirtualPCIPassthrough');
  assert.equal(passthrough?.backing?._type, 'VirtualPCIPassthroughDeviceBackingInfo');
  assert.equal(passthrough?.backing?.vendorId, 0x19e3);
  assert.equal(passthrough?.backing?.deviceId, '1');
  assert.ok(devices.some((d) => d._type === 'VirtualE1000'));

  await (await vm.destroy()).wait({ maxWaitSeconds: 30 });
  assert.deepEqual(await findByName(session, 'VirtualMachine', 'uss1'), []);
});

function servedCertificatePem(url: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
      const der = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(`-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`);
    });
    socket.once('error', reject);
  });
}
