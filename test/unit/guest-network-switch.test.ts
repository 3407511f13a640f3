/**
 * planManagementSwitch: the staged move from reachAt to the management address, per style
 * (illumos as golden data), and the timed revert that guards it, executed for real by sh.
 *
 *   node --import tsx --test test/unit/guest-network-switch.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../core/quote';
import { NetworkPlanError, networkProfiles, planManagementSwitch, type ManagementSwitch } from '../../core/guest/network';
import { restoreFileStep, timedRevert } from '../../core/guest/network/timed-revert';
import { networkFixture, summary, uss1Spec, withSection } from './guest-network-spec';

const linux = networkProfiles.linux;
const illumos = networkProfiles.illumos;

function switchOf(profile: typeof linux, fixture: string, connected: string): ManagementSwitch {
  const plan = planManagementSwitch(uss1Spec(), profile.parseFacts(networkFixture(fixture)), connected, profile);
  assert.equal(plan.needed, true);
  return plan as ManagementSwitch;
}

describe('the stages per style', () => {
  test('Debian installed with DHCP: add live; revert removes it; then the stanza, the DHCP client, the gateway, the old address', () => {
    const p = switchOf(linux, 'debian-blank-dhcp.facts', '198.51.100.77');
    assert.deepEqual([p.device, p.from, p.to, p.verifyAt], ['eth0', '198.51.100.77/24', '192.0.2.41/24', '192.0.2.41']);
    assert.deepEqual(summary(p.addNew), ['run ip addr add 192.0.2.41/24 dev eth0']);
    assert.deepEqual(summary(p.revert), ['run ip addr del 192.0.2.41/24 dev eth0']);
    assert.deepEqual(summary(p.persistAndRemoveOld).map((s) => s.replace(/^run sh -c .* sh eth0$/, 'run (stop the DHCP client of eth0)')), [
      'write /etc/network/interfaces (644 0:0)',
      'write /etc/network/interfaces.d/esxi-zfs-eth0 (644 0:0)',
      'run (stop the DHCP client of eth0)',
      'run ip route replace default via 192.0.2.1 dev eth0',
      'run sysctl -w net.ipv4.conf.eth0.promote_secondaries=1',
      'run ip addr del 198.51.100.77/24 dev eth0',
    ]);
    const body = p.guard.start.argv[4]!;
    assert.match(body, /\nrm -f \/etc\/network\/interfaces\.d\/esxi-zfs-eth0\nip addr replace 198\.51\.100\.77\/24 dev eth0\nip route replace default via 198\.51\.100\.1 dev eth0\nip addr del 192\.0\.2\.41\/24 dev eth0\nrm -f "\$1\.fired"\n$/);
    assert.match(body, /^printf '%s' '# This file describes/m, 'the installer\'s interfaces file comes back as it was');
    assert.equal(p.guard.seconds, 120);
    assert.deepEqual(p.guard.cancel.argv, ['rm', '/var/run/esxi-zfs-management-switch.revert']);
  });

  test('OmniOS (ipadm) with a DHCP address: a second address object (persistent: ipadm cannot promote a temporary one), route -p, the old object deleted', () => {
    const p = switchOf(illumos, 'omnios-r151046-dhcp.facts', '10.0.0.99');
    assert.deepEqual(summary(p.addNew), ['run ipadm create-addr -T static -a 192.0.2.41/24 e1000g0/mgmt']);
    assert.deepEqual(summary(p.revert), ['run ipadm delete-addr e1000g0/mgmt']);
    assert.deepEqual(summary(p.persistAndRemoveOld), [
      'run route -p add default 192.0.2.1',
      'run route delete default 10.0.0.1',
      'run ipadm delete-addr e1000g0/v4',
    ]);
    assert.match(p.guard.start.argv[4]!, /\nipadm create-addr -T dhcp e1000g0\/v4\nroute add default 10\.0\.0\.1\nroute -p delete default 192\.0\.2\.1\nipadm delete-addr e1000g0\/mgmt\n/);
  });

  test('snv_134 (legacy) after physical:default took over: addif, the hostname file and default router, logical interface 0 cleared', () => {
    const p = switchOf(illumos, 'snv134-after-nwam.facts', '10.0.0.99');
    assert.deepEqual(summary(p.addNew), ['run ifconfig e1000g0 addif 192.0.2.41/24 up']);
    assert.deepEqual(summary(p.revert), ['run ifconfig e1000g0 removeif 192.0.2.41']);
    assert.deepEqual(summary(p.persistAndRemoveOld), [
      'write /etc/hostname.e1000g0 (644 0:0)',
      'write /etc/defaultrouter (644 0:0)',
      'run route add default 192.0.2.1',
      'run route delete default 10.0.0.1',
      'run ifconfig e1000g0 0.0.0.0 down',
    ]);
    const hostname = p.persistAndRemoveOld[0]!;
    assert.equal(hostname.kind === 'file' && hostname.content, '192.0.2.41/24\n');
    assert.match(p.guard.start.argv[4]!, /\nprintf '%s' '10\.0\.0\.99\/24\n' >\/etc\/hostname\.e1000g0\nifconfig e1000g0 10\.0\.0\.99\/24 up\n/);
  });

  test('the worker already at the management address: nothing to switch', () => {
    const plan = planManagementSwitch(uss1Spec(), linux.parseFacts(networkFixture('debian-configured.facts')), '192.0.2.41', linux);
    assert.deepEqual(plan, { needed: false, report: { found: ['eth0: the worker reaches it at 192.0.2.41/24 already'], changed: [], warnings: [] } });
  });

  test('refused: nwam still running (configureNetwork comes first), the new address already on another interface', () => {
    const kind = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof NetworkPlanError ? e.kind : String(e);
      }
      return 'no error';
    };
    assert.equal(kind(() => planManagementSwitch(uss1Spec(), illumos.parseFacts(networkFixture('snv134-nwam.facts')), '10.0.0.99', illumos)), 'UnsupportedNetworkSetup');
    const taken = withSection(networkFixture('debian-blank-dhcp.facts'), 'addr', { kind: 'exit:0' },
      '2: eth0    inet 198.51.100.77/24 scope global dynamic eth0\\       valid_lft 86400sec preferred_lft 86400sec\n3: eth1    inet 192.0.2.41/24 scope global eth1\\       valid_lft forever preferred_lft forever\n');
    assert.equal(kind(() => planManagementSwitch(uss1Spec(), linux.parseFacts(taken), '198.51.100.77', linux)), 'BadNetworkSpec');
  });
});

describe('the timed revert, run by sh', () => {
  const withDir = (fn: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'gnet-revert-'));
    try {
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true });
    }
  };
  const guardIn = (dir: string, apply?: boolean) =>
    timedRevert({
      flag: join(dir, 'flag'),
      seconds: 1,
      ...(apply ? { apply: [sh`echo applied >${join(dir, 'applied')}`] } : {}),
      revert: [sh`echo reverted >${join(dir, 'reverted')}`, restoreFileStep(join(dir, 'conf'), 'old\n'), sh`false`, sh`echo after-a-failure >${join(dir, 'last')}`],
      what: 'a test change',
    });
  /** The body as the detached shell runs it, but in the foreground. */
  const runBody = (dir: string, g: ReturnType<typeof guardIn>) => spawnSync('sh', ['-c', g.start.argv[4]!, 'sh', join(dir, 'flag')], { encoding: 'utf8', timeout: 20_000 });

  test('nobody cancels: after the wait every revert step runs (also after one fails), the flag is consumed, cancel then says it came too late', () =>
    withDir((dir) => {
      const g = guardIn(dir);
      writeFileSync(join(dir, 'flag'), '');
      writeFileSync(join(dir, 'conf'), 'new\n');
      assert.equal(runBody(dir, g).status, 0);
      assert.equal(readFileSync(join(dir, 'reverted'), 'utf8'), 'reverted\n');
      assert.equal(readFileSync(join(dir, 'conf'), 'utf8'), 'old\n');
      assert.equal(readFileSync(join(dir, 'last'), 'utf8'), 'after-a-failure\n');
      assert.equal(existsSync(join(dir, 'flag')) || existsSync(join(dir, 'flag.fired')), false);
      assert.notEqual(spawnSync(g.cancel.argv[0]!, g.cancel.argv.slice(1)).status, 0);
    }));

  test('cancelled in time: cancel exits 0 and nothing is reverted; apply ran first', () =>
    withDir((dir) => {
      const g = guardIn(dir, true);
      writeFileSync(join(dir, 'flag'), '');
      assert.equal(spawnSync(g.cancel.argv[0]!, g.cancel.argv.slice(1)).status, 0);
      assert.equal(runBody(dir, g).status, 0);
      assert.equal(readFileSync(join(dir, 'applied'), 'utf8'), 'applied\n');
      assert.equal(existsSync(join(dir, 'reverted')), false);
    }));

  test('start detaches: it returns at once with the flag armed, and the shell it left reverts on its own', () =>
    withDir((dir) => {
      const g = guardIn(dir);
      const started = spawnSync(g.start.argv[0]!, g.start.argv.slice(1), { encoding: 'utf8', timeout: 5_000 });
      assert.equal(started.status, 0);
      // Wait for the detached shell to finish (its last step removes flag.fired after writing "last").
      const wait = spawnSync('sh', ['-c', 'while [ ! -f "$1/last" ] || [ -f "$1/flag.fired" ]; do sleep 0.1; done', 'sh', dir], { timeout: 20_000 });
      assert.equal(wait.status, 0, 'the detached revert did not finish');
      assert.equal(readFileSync(join(dir, 'reverted'), 'utf8'), 'reverted\n');
    }));

  test('seconds must be a positive whole number', () => {
    assert.throws(() => timedRevert({ flag: '/x', seconds: 0.5, revert: [], what: 'x' }), /positive integer/);
  });
});
