/**
 * The lab's vSphere simulator (lab/vsphere, Go): started through lab/vsphere.ts, its state file and
 * certificate, its control hooks and its stop by pid; the lab's hook (lab/vsphere-hook.ts) stopping
 * and starting a real lab host's sshd; and the simulator's own Go tests (`go test ./...`), which
 * drive it with govmomi's client. Runs as root (the lab host).
 *
 *   node --import tsx --test test/lab/vsphere-sim.test.ts
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { sshBanner } from '../../lab/daemons';
import { run } from '../../lab/exec';
import { labDown, labUp, type LabState } from '../../lab/lab';
import { isAlive } from '../../lab/sys';
import { labHookCommand } from '../../lab/vsphere-hook';
import { shellQuote, startVsphereSim, type VsphereSim } from '../../lab/vsphere';

const colonHex = (digest: Buffer) => digest.toString('hex').toUpperCase().match(/../g)!.join(':');

function servedCertificate(url: string): Promise<Buffer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().raw);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

describe('the vSphere simulator', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esxi-zfs-vcsim-test-'));
  let sim: VsphereSim;

  before(async () => {
    sim = await startVsphereSim({
      dir,
      hosts: [
        { name: 'vh1', address: '10.213.9.1', rebootSeconds: 1, storageVm: { name: 'uss1', labHost: 'test-san-01', address: '10.213.0.11', storageAddress: '10.214.0.41' } },
        { name: 'vh2', address: '10.213.9.2' },
      ],
    });
  });
  after(async () => {
    await sim?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('writes its state once listening: URL, thumbprints of the served certificate, pid, control; never the password', async () => {
    const text = fs.readFileSync(sim.stateFile, 'utf8');
    const state = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(state).sort(), ['control', 'pid', 'thumbprintSha1', 'thumbprintSha256', 'url']);
    assert.equal(state.pid, sim.pid);
    assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+\/sdk$/);
    assert.equal(state.control, `${new URL(sim.url).origin}/esxi-zfs-lab`);
    assert.ok(!text.includes(sim.password));
    assert.equal(fs.statSync(path.join(dir, 'password')).mode & 0o777, 0o600);
    const cert = await servedCertificate(sim.url);
    assert.equal(sim.thumbprint, colonHex(createHash('sha1').update(cert).digest()));
    assert.equal(sim.thumbprintSha256, colonHex(createHash('sha256').update(cert).digest()));
  });

  test('control: host state, reboot seconds, never-return, revert, fail-once', async () => {
    const vh1 = await sim.control.host('vh1');
    assert.equal(vh1.connectionState, 'connected');
    assert.equal(vh1.rebootSeconds, 1);
    const card = vh1.passthrough.find((p) => p.id === '0000:0b:00.0');
    assert.deepEqual(card, { id: '0000:0b:00.0', passthruCapable: true, passthruEnabled: false, passthruActive: false });
    assert.equal((await sim.control.setRebootSeconds('vh2', 12)).rebootSeconds, 12);
    assert.equal((await sim.control.setNeverReturn('vh2', true)).neverReturn, true);
    assert.equal((await sim.control.setRevertPassthrough('vh2', true)).revertPassthroughOnNextReboot, true);
    assert.deepEqual(await sim.control.failOnce({ method: 'RebootHost_Task', host: 'vh1', fault: 'SystemError', message: 'no' }),
      [{ method: 'RebootHost_Task', host: 'vh1', fault: 'SystemError', message: 'no' }]);
    await assert.rejects(sim.control.failOnce({ method: 'Frobnicate', fault: 'SystemError' }), /400.*Frobnicate.*RebootHost_Task/);
    await assert.rejects(sim.control.host('vh9'), /404/);
    assert.deepEqual(await sim.control.hookEvents(), []);
  });

  test('stop() ends the process by its pid', async () => {
    const { pid } = sim;
    await sim.stop();
    assert.equal(isAlive(pid), false);
    await assert.rejects(servedCertificate(sim.url));
  });
});

describe("the lab's hook: a storage VM's power is its lab host's sshd", () => {
  const DIR = path.resolve(__dirname, '..', '..', '.data', 'lab-vsphere-test');
  let lab: LabState;
  before(async () => {
    lab = await labUp({ names: ['test-san-01'], dir: DIR });
  });
  after(async () => {
    await labDown({ dir: DIR });
  });

  // Run as the simulator runs it: /bin/sh -c 'CMD "$@"' with the event as arguments.
  const hook = (...args: string[]) => run('/bin/sh', ['-c', `${shellQuote(labHookCommand(DIR))} "$@"`, 'esxi-zfs-hook', ...args], { timeoutMs: 60_000 });

  test('vm-off stops the sshd, vm-on starts it again and records its pid; host events are accepted', async () => {
    const host = lab.hosts[0]!;
    assert.match(await sshBanner(host.address), /^SSH-2\.0-/);
    const off = await hook('vm-off', 'uss1', 'test-san-01');
    assert.equal(off.code, 0, off.stderr);
    assert.equal(await sshBanner(host.address), '');
    assert.equal(isAlive(host.pids.sshd), false);
    const on = await hook('vm-on', 'uss1', 'test-san-01');
    assert.equal(on.code, 0, on.stderr);
    assert.match(await sshBanner(host.address), /^SSH-2\.0-/);
    const state = JSON.parse(fs.readFileSync(path.join(DIR, 'state.json'), 'utf8')) as LabState;
    assert.notEqual(state.hosts[0]!.pids.sshd, host.pids.sshd);
    assert.equal(isAlive(state.hosts[0]!.pids.sshd), true);
    assert.equal((await hook('vm-on', 'uss1', 'test-san-01')).code, 0, 'a second vm-on changes nothing');
    assert.equal((await hook('host-down', 'vh1')).code, 0);
    assert.equal((await hook('host-up', 'vh1')).code, 0);
    const bad = await hook('vm-on', 'uss1', 'no-such-host');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no lab host 'no-such-host'/);
    assert.equal((await hook('reboot', 'vh1')).code, 2);
  });
});

test("the simulator's Go tests (go test ./... in lab/vsphere, govmomi's client against it)", { timeout: 600_000 }, async () => {
  const onPath = (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, 'go')));
  const go = onPath ? 'go' : '/usr/local/go/bin/go'; // where scripts/setup.sh also looks
  const result = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(go, ['test', '-mod=readonly', '-count=1', './...'], { cwd: path.resolve(__dirname, '..', '..', 'lab', 'vsphere'), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
  assert.equal(result.code, 0, result.output.split('\n').filter((l) => !/hook .*: ok in|TLS handshake error/.test(l)).join('\n'));
});
