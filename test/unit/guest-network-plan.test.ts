/**
 * planNetwork as data: the runbook's uss1 on illumos in both styles (golden: illumos cannot run
 * here), a blank Debian guest (facts captured in a network namespace), the plan that changes
 * nothing once everything is in place, and what is never touched: the address the worker is
 * connected through.
 *
 *   node --import tsx --test test/unit/guest-network-plan.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkPlanError, networkProfiles, planNetwork } from '../../core/guest/network';
import { contentOf, networkFixture, summary, uss1Spec, withSection } from './guest-network-spec';

const linux = networkProfiles.linux;
const illumos = networkProfiles.illumos;
const linuxFacts = (name: string) => linux.parseFacts(networkFixture(name));
const illumosFacts = (name: string) => illumos.parseFacts(networkFixture(name));

describe('Debian (ifupdown): facts captured from a network namespace', () => {
  test('a blank guest (eth0 from the installer, eth1 blank): eth1 gets its file and its live address, the installer\'s eth0 stanza is left', () => {
    const plan = planNetwork(uss1Spec(), linuxFacts('debian-blank-static.facts'), '192.0.2.41', linux);
    assert.deepEqual(summary(plan.actions), [
      'write /etc/network/interfaces.d/esxi-zfs-eth1 (644 0:0)',
      'run ip link set dev eth1 up',
      'run ip addr replace 10.0.1.41/24 dev eth1',
    ]);
    assert.equal(contentOf(plan.actions, '/etc/network/interfaces.d/esxi-zfs-eth1'), [
      '# esxi-zfs: eth1 (storage), from the inventory; changes here are replaced',
      'auto eth1',
      'iface eth1 inet static',
      '\taddress 10.0.1.41/24',
      '',
    ].join('\n'));
    assert.deepEqual(plan.report.found, ['eth0: /etc/network/interfaces configures 192.0.2.41/24 as the spec says: left there', 'route default via 192.0.2.1 live']);
    assert.equal(plan.replan, false);
  });

  test('routes: up/down lines in the file of the NIC whose network holds the gateway, and live', () => {
    const spec = uss1Spec({ routes: [{ to: '10.2.0.0/16', via: '10.0.1.1' }] });
    const plan = planNetwork(spec, linuxFacts('debian-blank-static.facts'), '192.0.2.41', linux);
    assert.match(contentOf(plan.actions, '/etc/network/interfaces.d/esxi-zfs-eth1')!, /\tup ip route add 10\.2\.0\.0\/16 via 10\.0\.1\.1 dev eth1\n\tdown ip route del 10\.2\.0\.0\/16 via 10\.0\.1\.1 dev eth1\n$/);
    assert.equal(summary(plan.actions).at(-1), 'run ip route replace 10.2.0.0/16 via 10.0.1.1 dev eth1');
  });

  test('everything in place (captured after applying the plan and an ifup -a "reboot"): no change', () => {
    const spec = uss1Spec({ routes: [{ to: '10.2.0.0/16', via: '10.0.1.1' }] });
    const plan = planNetwork(spec, linuxFacts('debian-configured.facts'), '192.0.2.41', linux);
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(plan.report.changed, []);
    assert.ok(plan.report.found.includes('/etc/network/interfaces.d/esxi-zfs-eth1: as planned'));
  });

  test('installed with DHCP, the worker at the lease (reachAt): eth0, its gateway and its stanza are left to the management switch', () => {
    const plan = planNetwork(uss1Spec(), linuxFacts('debian-blank-dhcp.facts'), '198.51.100.77', linux);
    assert.deepEqual(summary(plan.actions), [
      'write /etc/network/interfaces.d/esxi-zfs-eth1 (644 0:0)',
      'run ip link set dev eth1 up',
      'run ip addr replace 10.0.1.41/24 dev eth1',
    ]);
    assert.match(plan.report.found[0]!, /^eth0: 192\.0\.2\.41\/24 \(gateway 192\.0\.2\.1\) is set by switchManagementAddress/);
    assert.ok(plan.report.found.includes('default route via 198.51.100.1 left as it is (no NIC of the spec has a gateway)') === false, 'the spec has a gateway: it is deferred, not absent');
  });

  test('the worker at the spec address given by DHCP: the installer\'s dhcp stanza is commented out, the DHCP client stopped, the lease kept for good', () => {
    const spec = uss1Spec({ nics: [{ address: '198.51.100.77/24', gateway: '198.51.100.1', role: 'management' }, { address: '10.0.1.41/24', role: 'storage' }] });
    const facts = linuxFacts('debian-blank-dhcp.facts');
    const plan = planNetwork(spec, facts, '198.51.100.77', linux);
    assert.deepEqual(summary(plan.actions), [
      'write /etc/network/interfaces (644 0:0)',
      'write /etc/network/interfaces.d/esxi-zfs-eth0 (644 0:0)',
      'write /etc/network/interfaces.d/esxi-zfs-eth1 (644 0:0)',
      `run sh -c ${(plan.actions[3] as { argv: string[] }).argv[2]} sh eth0`,
      'run ip addr replace 198.51.100.77/24 dev eth0 valid_lft forever preferred_lft forever',
      'run ip link set dev eth1 up',
      'run ip addr replace 10.0.1.41/24 dev eth1',
    ]);
    const main = contentOf(plan.actions, '/etc/network/interfaces')!;
    const before = facts.linux!.ifupdown.files[0]!.content;
    assert.equal(main, before.replace('allow-hotplug eth0\niface eth0 inet dhcp\n', '#esxi-zfs-off# allow-hotplug eth0\n#esxi-zfs-off# iface eth0 inet dhcp\n'), 'only those two lines change');
    assert.match(plan.report.warnings[0]!, /eth0: its stanza in \/etc\/network\/interfaces \(inet dhcp\) differs from the spec: commented out there/);
  });

  test('an auto line naming two interfaces loses only ours; a main file that does not read interfaces.d gets a source line for our files', () => {
    const facts = linuxFacts('debian-blank-static.facts');
    const main = facts.linux!.ifupdown.files[0]!;
    const content = main.content.replace('source /etc/network/interfaces.d/*\n', '').replace('allow-hotplug eth0', 'auto eth0 eth1') + 'iface eth1 inet dhcp\n';
    const edited = linux.parseFacts(withSection(networkFixture('debian-blank-static.facts'), '/etc/network/interfaces', { kind: 'file', meta: '-rw-r--r-- 0 0' }, content));
    const plan = planNetwork(uss1Spec(), edited, '192.0.2.41', linux);
    const next = contentOf(plan.actions, '/etc/network/interfaces')!;
    assert.match(next, /^#esxi-zfs-off# auto eth0 eth1\nauto eth0\n/m);
    assert.match(next, /^#esxi-zfs-off# iface eth1 inet dhcp\n\nsource \/etc\/network\/interfaces\.d\/esxi-zfs-\*\n$/m);
    assert.match(next, /^iface eth0 inet static$/m, 'the eth0 stanza stays');
  });
  test('our files in place but no longer read (the source line was removed): the source line comes back', () => {
    const text = networkFixture('debian-configured.facts');
    const main = linux.parseFacts(text).linux!.ifupdown.files[0]!.content;
    const facts = linux.parseFacts(withSection(text, '/etc/network/interfaces', { kind: 'file', meta: '-rw-r--r-- 0 0' }, main.replace('source /etc/network/interfaces.d/*\n', '')));
    const plan = planNetwork(uss1Spec({ routes: [{ to: '10.2.0.0/16', via: '10.0.1.1' }] }), facts, '192.0.2.41', linux);
    assert.deepEqual(summary(plan.actions), ['write /etc/network/interfaces (644 0:0)']);
    assert.match(contentOf(plan.actions, '/etc/network/interfaces')!, /\n\nsource \/etc\/network\/interfaces\.d\/esxi-zfs-\*\n$/);
  });

  test('the worker at the spec address with another prefix live: a warning (the spec\'s prefix applies from the next boot)', () => {
    const spec = uss1Spec({ nics: [{ address: '192.0.2.41/25', gateway: '192.0.2.1', role: 'management' }, { address: '10.0.1.41/24', role: 'storage' }] });
    const plan = planNetwork(spec, linuxFacts('debian-blank-static.facts'), '192.0.2.41', linux);
    assert.ok(plan.report.warnings.includes('eth0: the worker\'s address has prefix /24 live, the spec /25: the spec\'s applies from the next boot'));
  });
});

describe('illumos, the runbook\'s uss1 (golden: illumos cannot run on this machine)', () => {
  test('OmniOS r151046 (ipadm), e1000g0 installed static at 192.0.2.41: e1000g1 created and addressed, the persistent default route found', () => {
    const plan = planNetwork(uss1Spec(), illumosFacts('omnios-r151046-static.facts'), '192.0.2.41', illumos);
    assert.deepEqual(summary(plan.actions), [
      'run ipadm create-if e1000g1',
      'run ipadm create-addr -T static -a 10.0.1.41/24 e1000g1/v4',
    ]);
    assert.deepEqual(plan.report.found, ['e1000g0: 192.0.2.41/24 (e1000g0/v4) live and persistent', 'route default via 192.0.2.1: live and kept']);
  });

  test('OmniOS: a static route goes through route -p (live and /etc/inet/static_routes in one)', () => {
    const plan = planNetwork(uss1Spec({ routes: [{ to: '10.2.0.0/16', via: '10.0.1.1' }] }), illumosFacts('omnios-r151046-static.facts'), '192.0.2.41', illumos);
    assert.equal(summary(plan.actions).at(-1), 'run route -p add -net 10.2.0.0/16 10.0.1.1');
  });

  test('OpenSolaris snv_134 (legacy), e1000g0 set by hand as in the runbook: /etc/hostname.e1000g1 with one line, plumb, up, /etc/defaultrouter, the live route', () => {
    const plan = planNetwork(uss1Spec(), illumosFacts('snv134-runbook.facts'), '192.0.2.41', illumos);
    assert.deepEqual(summary(plan.actions), [
      'write /etc/hostname.e1000g1 (644 0:0)',
      'run ifconfig e1000g1 plumb',
      'run ifconfig e1000g1 10.0.1.41/24 up',
      'write /etc/defaultrouter (644 0:0)',
      'run route add default 192.0.2.1',
    ]);
    assert.equal(contentOf(plan.actions, '/etc/hostname.e1000g1'), '10.0.1.41/24\n', 'exactly one line, no blank line');
    assert.equal(contentOf(plan.actions, '/etc/defaultrouter'), '192.0.2.1\n');
    assert.deepEqual(plan.report.found, ['/etc/hostname.e1000g0: 192.0.2.41/24'], 'the runbook\'s "uss1.esan.data1 netmask ..." form, looked up in the hosts file, is kept');
  });

  test('snv_134: a hostname file with a blank line (the runbook\'s pitfall) is rewritten', () => {
    const text = withSection(networkFixture('snv134-runbook.facts'), '/etc/hostname.e1000g0', { kind: 'file', meta: '-rw-r--r-- 0 0' }, '192.0.2.41/24\n\n');
    const plan = planNetwork(uss1Spec(), illumos.parseFacts(text), '192.0.2.41', illumos);
    assert.equal(summary(plan.actions)[0], 'write /etc/hostname.e1000g0 (644 0:0)');
    assert.equal(contentOf(plan.actions, '/etc/hostname.e1000g0'), '192.0.2.41/24\n');
    assert.match(plan.report.changed[0]!, /it had a blank line/);
  });

  test('snv_134 as installed (nwam online, DHCP): first pass writes the hostname files (the connected address as it is) and the default router, then physical:default takes over, guarded', () => {
    const plan = planNetwork(uss1Spec(), illumosFacts('snv134-nwam.facts'), '10.0.0.99', illumos);
    assert.equal(plan.replan, true);
    assert.deepEqual(summary(plan.actions), ['write /etc/hostname.e1000g0 (644 0:0)', 'write /etc/hostname.e1000g1 (644 0:0)', 'write /etc/defaultrouter (644 0:0)']);
    assert.equal(contentOf(plan.actions, '/etc/hostname.e1000g0'), '10.0.0.99/24\n');
    assert.equal(contentOf(plan.actions, '/etc/hostname.e1000g1'), '10.0.1.41/24\n');
    assert.equal(contentOf(plan.actions, '/etc/defaultrouter'), '10.0.0.1\n');
    const body = plan.guard!.start.argv[4]!;
    assert.match(body, /^svcadm disable -s network\/physical:nwam\nsvcadm enable -s network\/physical:default\ni=0\n/);
    assert.match(body, /mv -f "\$1" "\$1\.fired" 2>\/dev\/null \|\| exit 0\nsvcadm disable -s network\/physical:default\nsvcadm enable -s network\/physical:nwam\nrm -f \/etc\/defaultrouter\nrm -f \/etc\/hostname\.e1000g1\nrm -f \/etc\/hostname\.e1000g0\nrm -f "\$1\.fired"\n$/);
    assert.deepEqual(plan.guard!.cancel.argv, ['rm', '/var/run/esxi-zfs-network-services.revert']);
  });

  test('snv_134 after that pass: nothing left for configureNetwork; e1000g0 and the gateway wait for the switch', () => {
    const plan = planNetwork(uss1Spec(), illumosFacts('snv134-after-nwam.facts'), '10.0.0.99', illumos);
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(plan.report.found.slice(1), ['/etc/hostname.e1000g1: 10.0.1.41/24', 'e1000g1: 10.0.1.41/24 live']);
  });

  test('nwam online on an ipadm system is refused (configure it from the console)', () => {
    const text = withSection(networkFixture('omnios-r151046-static.facts'), 'svcs', { kind: 'exit:0' }, 'online         svc:/network/physical:nwam\n');
    assert.throws(() => planNetwork(uss1Spec(), illumos.parseFacts(text), '192.0.2.41', illumos), (e: unknown) => e instanceof NetworkPlanError && e.kind === 'UnsupportedNetworkSetup');
  });
});

describe('what planNetwork never does', () => {
  const everyFixture: [string, string, typeof linux][] = [
    ['debian-blank-static.facts', '192.0.2.41', linux],
    ['debian-blank-dhcp.facts', '198.51.100.77', linux],
    ['omnios-r151046-static.facts', '192.0.2.41', illumos],
    ['omnios-r151046-dhcp.facts', '10.0.0.99', illumos],
    ['snv134-runbook.facts', '192.0.2.41', illumos],
    ['snv134-after-nwam.facts', '10.0.0.99', illumos],
  ];
  for (const [name, connected, profile] of everyFixture) {
    test(`${name}: no command names the connected address or changes the connected interface's address`, () => {
      const facts = profile.parseFacts(networkFixture(name));
      const device = facts.addresses.find((a) => a.address === connected)!.device;
      const plan = planNetwork(uss1Spec({ routes: [{ to: '10.2.0.0/16', via: '10.0.1.1' }] }), facts, connected, profile);
      for (const a of plan.actions) {
        if (a.kind !== 'command') continue;
        assert.ok(!a.argv.some((w) => w.startsWith(`${connected}/`) || w === connected), `${a.argv.join(' ')} names the connected address`);
        const touchesAddress = /^(ip addr|ipadm (create|delete)-addr|ifconfig)/.test(a.argv.join(' '));
        if (touchesAddress && a.argv.includes(device)) assert.match(a.argv.join(' '), /valid_lft forever/, `${a.argv.join(' ')} changes ${device}`);
      }
    });
  }
});
