/**
 * The guest network facts: the one-round-trip section framing (run for real with sh here), the
 * Linux parsers on output captured from a network namespace with Debian's ifupdown files, and the
 * illumos parsers on realistic OmniOS r151046 and OpenSolaris snv_134 output (golden: illumos
 * cannot run on this machine).
 *
 *   node --import tsx --test test/unit/guest-network-facts.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../core/quote';
import { networkProfiles, NetworkPlanError } from '../../core/guest/network';
import { parseSections, SECTION_FUNCTIONS } from '../../core/guest/network/sections';
import { linuxNics, parseIpAddr, parseIpLink, parseIpRoute } from '../../core/guest/network/linux-facts';
import { parseIfupdown, isSourced } from '../../core/guest/network/ifupdown-parse';
import {
  parseDladmShowPhys, parseHostnameFile, parseIfconfig, parseIpadmShowAddr, parseNetstatRoutes, parseRouteArgs,
  parseRoutePShow, parseSvcsPhysical, splitParseable,
} from '../../core/guest/network/illumos-parse';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/guest/network', name), 'utf8');
const kind = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof NetworkPlanError ? e.kind : `not a NetworkPlanError: ${String(e)}`;
  }
  return 'no error';
};

describe('section framing (one round trip)', () => {
  test('run and show, executed by sh, give back exact bytes: no trailing newline, header-like lines, UTF-8, absent files, symlinks, exit codes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gnet-sections-'));
    try {
      const tricky = 'no newline at the end\n::esxi-zfs:: file 3 - - - /etc/forged\né ü 🚀';
      writeFileSync(join(dir, 'tricky'), tricky);
      writeFileSync(join(dir, 'empty'), '');
      symlinkSync('tricky', join(dir, 'link'));
      const script = sh`${SECTION_FUNCTIONS}run ok printf 'a\\nb'
run fails sh -c 'echo half; exit 3'
run missing no-such-command-here
show ${join(dir, 'tricky')}
show ${join(dir, 'empty')}
show ${join(dir, 'nothing')}
show ${join(dir, 'link')}
`;
      const r = spawnSync('sh', ['-c', script.text], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const s = parseSections(r.stdout);
      assert.deepEqual(s.get('ok'), { name: 'ok', kind: 'exit', code: 0, content: 'a\nb' });
      assert.deepEqual(s.get('fails'), { name: 'fails', kind: 'exit', code: 3, content: 'half\n' });
      assert.equal(s.get('missing')!.code, 127);
      const t = s.get(join(dir, 'tricky'))!;
      assert.equal(t.kind, 'file');
      assert.equal(t.content, tricky);
      assert.match(t.mode!, /^-rw/);
      assert.equal(t.uid, process.getuid!());
      assert.equal(s.get(join(dir, 'empty'))!.content, '');
      assert.equal(s.get(join(dir, 'nothing'))!.kind, 'absent');
      assert.equal(s.get(join(dir, 'link'))!.kind, 'link');
      assert.match(s.get(join(dir, 'link'))!.content, / -> tricky$/m);
      assert.equal(s.has('/etc/forged'), false);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('output cut short, or longer than a header says, is refused (never guessed)', () => {
    const whole = '::esxi-zfs:: exit:0 4 - - - a\nabc\n::esxi-zfs:: exit:0 2 - - - b\nxy';
    assert.equal(parseSections(whole).get('b')!.content, 'xy');
    assert.equal(kind(() => parseSections(whole.slice(0, -1))), 'FactsUnreadable');
    assert.equal(kind(() => parseSections(whole.replace(' 4 ', ' 3 '))), 'FactsUnreadable');
    assert.equal(kind(() => parseSections('nothing at all')), 'FactsUnreadable');
  });

  test('what a login script prints before the first header is skipped', () => {
    assert.equal(parseSections('Welcome!\n::esxi-zfs:: exit:0 1 - - - a\nz').get('a')!.content, 'z');
  });
});

describe('Linux facts (captured in a network namespace: veth NICs, Debian installer files)', () => {
  test('ip -o -d link: NICs in ifindex order, veth counted, loopback and bridges not, link state', () => {
    const links = parseIpLink(fixture('debian-blank-static.facts').split('::esxi-zfs::')[1]!.split('\n').slice(1).join('\n'));
    assert.deepEqual(links.map((l) => [l.device, l.linkType, l.kind ?? '-', l.up]), [
      ['lo', 'link/loopback', '-', true],
      ['eth0', 'link/ether', 'veth', true],
      ['eth1', 'link/ether', 'veth', false],
    ]);
    const bridge = '4: br9: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether ae:e8:b4:a4:4e:61 brd ff:ff:ff:ff:ff:ff promiscuity 0 \\    bridge forward_delay 1500 hello_time 200';
    const nic = '2: ens192: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP mode DEFAULT group default qlen 1000\\    link/ether 00:50:56:8e:11:22 brd ff:ff:ff:ff:ff:ff promiscuity 0 minmtu 60 maxmtu 9000 addrgenmode none numtxqueues 8 parentbus pci parentdev 0000:0b:00.0 \\    altname enp11s0';
    assert.deepEqual(linuxNics(parseIpLink(`${nic}\n${bridge}`)).map((l) => l.device), ['ens192']);
  });

  test('ip -o -4 addr: loopback skipped, DHCP leases marked dynamic', () => {
    assert.deepEqual(parseIpAddr(fixture('debian-blank-dhcp.facts')), [{ address: '198.51.100.77', prefix: 24, device: 'eth0', dynamic: true }]);
    assert.deepEqual(parseIpAddr(fixture('debian-configured.facts')).map((a) => `${a.device} ${a.address}/${a.prefix} ${a.dynamic}`), [
      'eth0 192.0.2.41/24 false',
      'eth1 10.0.1.41/24 false',
    ]);
  });

  test('ip -4 route: routes through a gateway, host routes as /32, connected networks skipped', () => {
    assert.deepEqual(parseIpRoute('default via 192.0.2.1 dev eth0 onlink \n10.0.1.0/24 dev eth1 proto kernel scope link src 10.0.1.41 \n10.2.0.0/16 via 10.0.1.1 dev eth1 \n10.9.9.9 via 10.0.1.1 dev eth1 metric 5\nunreachable 10.8.0.0/16\n'), [
      { to: 'default', via: '192.0.2.1', device: 'eth0' },
      { to: '10.2.0.0/16', via: '10.0.1.1', device: 'eth1' },
      { to: '10.9.9.9/32', via: '10.0.1.1', device: 'eth1' },
    ]);
  });

  test('the whole Debian capture: style, NICs, down links, the installer stanza, the files with owner and mode', () => {
    const f = networkProfiles.linux.parseFacts(fixture('debian-blank-static.facts'));
    assert.equal(f.style, 'ifupdown');
    assert.deepEqual(f.nics, ['eth0', 'eth1']);
    assert.deepEqual(f.linux!.linksDown, ['eth1']);
    assert.deepEqual(f.routes, [{ to: 'default', via: '192.0.2.1', device: 'eth0' }]);
    assert.equal(f.hostName, 'uss1');
    assert.deepEqual(f.linux!.ifupdown.active, ['/etc/network/interfaces']);
    const [lo, eth0] = f.linux!.ifupdown.stanzas;
    assert.equal(lo!.method, 'loopback');
    assert.deepEqual({ ...eth0, up: eth0!.up }, {
      file: '/etc/network/interfaces', first: 11, last: 16, device: 'eth0', family: 'inet', method: 'static',
      address: { address: '192.0.2.41', prefix: 24 }, gateway: '192.0.2.1', up: [],
    });
    assert.deepEqual(f.linux!.ifupdown.autos.map((a) => `${a.keyword} ${a.devices.join(' ')}`), ['auto lo', 'allow-hotplug eth0']);
    assert.deepEqual({ mode: f.hosts.mode, uid: f.hosts.uid, gid: f.hosts.gid }, { mode: '-rw-r--r--', uid: 0, gid: 0 });
    assert.equal(f.resolvConf.content, 'search example.net\nnameserver 192.0.2.53\n');
  });

  test('ifupdown: netmask lines, continuation lines, up lines; a drop-in counts only when sourced', () => {
    const main = { path: '/etc/network/interfaces', exists: true, content: 'source-directory /etc/network/interfaces.d\niface eth1 inet static\n  address 10.0.1.41\n  netmask 255.255.255.0\n  up ip route add 10.2.0.0/16 \\\n     via 10.0.1.1\n' };
    const valid = { path: '/etc/network/interfaces.d/esxi-zfs-eth2', exists: true, content: 'iface eth2 inet dhcp\n' };
    const ignored = { path: '/etc/network/interfaces.d/old.conf', exists: true, content: 'iface eth3 inet dhcp\n' };
    const c = parseIfupdown(main, [valid, ignored]);
    assert.deepEqual(c.active, ['/etc/network/interfaces', '/etc/network/interfaces.d/esxi-zfs-eth2']);
    assert.deepEqual(c.stanzas.map((s) => [s.device, s.address, s.up, s.last]), [
      ['eth1', { address: '10.0.1.41', prefix: 24 }, ['ip route add 10.2.0.0/16      via 10.0.1.1'], 5],
      ['eth2', undefined, [], 0],
    ]);
    assert.equal(isSourced('/etc/network/interfaces.d/old.conf', [{ keyword: 'source', pattern: 'interfaces.d/*' }]), true);
    assert.equal(isSourced('/etc/network/interfaces.d/esxi-zfs-eth0', [{ keyword: 'source', pattern: '/etc/network/interfaces.d/*.cfg' }]), false);
  });
});

describe('illumos facts (golden: realistic OmniOS r151046 and OpenSolaris snv_134 output)', () => {
  test('parseable fields: escaped colons are part of the value', () => {
    assert.deepEqual(splitParseable('lo0/v6:static:ok:U----:\\:\\:1/128'), ['lo0/v6', 'static', 'ok', 'U----', '::1/128']);
  });

  test('dladm show-phys in both output forms, in dladm\'s order', () => {
    assert.deepEqual(parseDladmShowPhys('e1000g1:up\ne1000g0:unknown\n'), [{ link: 'e1000g1', state: 'up' }, { link: 'e1000g0', state: 'unknown' }]);
    assert.deepEqual(parseDladmShowPhys('LINK="vmxnet3s0" STATE="up"\n'), [{ link: 'vmxnet3s0', state: 'up' }]);
  });

  test('ipadm show-addr: IPv4 objects with their address, DHCP without one yet, temporary flag, IPv6 without an IPv4 address', () => {
    assert.deepEqual(parseIpadmShowAddr('e1000g0/v4:dhcp:ok:U----:10.0.0.99/24\ne1000g1/tmp:static:ok:U--t-:10.0.1.41/24\ne1000g2/v4:dhcp:down:-----:?\ne1000g0/v6:addrconf:ok:U----:fe80\\:\\:20c\\:29ff\\:fe3b\\:8e41/10\n'), [
      { handle: 'e1000g0/v4', device: 'e1000g0', type: 'dhcp', state: 'ok', temporary: false, address: { address: '10.0.0.99', prefix: 24 } },
      { handle: 'e1000g1/tmp', device: 'e1000g1', type: 'static', state: 'ok', temporary: true, address: { address: '10.0.1.41', prefix: 24 } },
      { handle: 'e1000g2/v4', device: 'e1000g2', type: 'dhcp', state: 'down', temporary: false },
      { handle: 'e1000g0/v6', device: 'e1000g0', type: 'addrconf', state: 'ok', temporary: false },
    ]);
  });

  test('ifconfig -a: logical interfaces, DHCP flag, plumbed but unconfigured and down interfaces', () => {
    const out = 'lo0: flags=2001000849<UP,LOOPBACK,RUNNING,MULTICAST,IPv4,VIRTUAL> mtu 8232 index 1\n\tinet 127.0.0.1 netmask ff000000 \n' +
      'e1000g0: flags=1004843<UP,BROADCAST,RUNNING,MULTICAST,DHCP,IPv4> mtu 1500 index 2\n\tinet 10.0.0.99 netmask ffffff00 broadcast 10.0.0.255\n' +
      'e1000g0:1: flags=1000843<UP,BROADCAST,RUNNING,MULTICAST,IPv4> mtu 1500 index 2\n\tinet 192.0.2.41 netmask ffffff00 broadcast 192.0.2.255\n' +
      'e1000g1: flags=1000842<BROADCAST,RUNNING,MULTICAST,IPv4> mtu 1500 index 3\n\tinet 10.0.1.41 netmask ffffff00 broadcast 10.0.1.255\n' +
      'e1000g2: flags=1004842<BROADCAST,RUNNING,MULTICAST,DHCP,IPv4> mtu 1500 index 4\n\tinet 0.0.0.0 netmask 0 \n' +
      'e1000g0: flags=20002004841<UP,RUNNING,MULTICAST,DHCP,IPv6> mtu 1500 index 2\n\tinet6 fe80::20c:29ff:fe3b:8e41/10 \n';
    assert.deepEqual(parseIfconfig(out), {
      addresses: [
        { address: '10.0.0.99', prefix: 24, device: 'e1000g0', handle: 'e1000g0', dynamic: true },
        { address: '192.0.2.41', prefix: 24, device: 'e1000g0', handle: 'e1000g0:1', dynamic: false },
      ],
      plumbed: ['e1000g0', 'e1000g1', 'e1000g2'],
    });
  });

  test('netstat -rnv: gateway routes with their mask, with or without a device column', () => {
    assert.deepEqual(parseNetstatRoutes(fixture('snv134-nwam.facts')), [{ to: 'default', via: '10.0.0.1' }]);
    assert.deepEqual(parseNetstatRoutes('default              0.0.0.0         192.0.2.1            e1000g0  1500   2 UG    1842      0\n10.2.0.0             255.255.0.0     10.0.1.1             e1000g1  1500   1 UG       0      0\n192.0.2.0            255.255.255.0   192.0.2.41           e1000g0  1500   3 U     5211      0\n'), [
      { to: 'default', via: '192.0.2.1', device: 'e1000g0' },
      { to: '10.2.0.0/16', via: '10.0.1.1', device: 'e1000g1' },
    ]);
  });

  test('route -p show and its argument forms', () => {
    assert.deepEqual(parseRoutePShow('persistent: route add default 192.0.2.1\npersistent: route add -net 10.2.0.0/16 10.0.1.1\n'), [
      { to: 'default', via: '192.0.2.1' },
      { to: '10.2.0.0/16', via: '10.0.1.1' },
    ]);
    assert.deepEqual(parseRoutePShow('No persistent routes are defined\n'), []);
    assert.deepEqual(parseRouteArgs(['-net', '10.2.0.0', '-netmask', '255.255.0.0', '10.0.1.1']), { to: '10.2.0.0/16', via: '10.0.1.1' });
    assert.deepEqual(parseRouteArgs(['-host', '10.9.9.9', '10.0.1.1']), { to: '10.9.9.9/32', via: '10.0.1.1' });
    assert.deepEqual(parseRouteArgs(['default', '-gateway', '192.0.2.1']), { to: 'default', via: '192.0.2.1' }, 'net-physical\'s form');
    assert.equal(parseRouteArgs(['-net', '10.2.0.0/16']), undefined, 'no gateway');
    assert.equal(parseRouteArgs(['-inet6', 'default', 'fe80::1']), undefined);
  });

  test('/etc/hostname.<if>: CIDR, the runbook\'s name-and-netmask form (looked up in hosts), no mask, blank line', () => {
    const hosts = '::1 localhost uss1.esan.data1\n192.0.2.41 uss1.esan.data1\n';
    const file = (content: string) => ({ path: '/etc/hostname.e1000g0', exists: true, content });
    assert.deepEqual(parseHostnameFile(file('10.0.1.41/24\n'), hosts), { device: 'e1000g0', path: '/etc/hostname.e1000g0', blankLine: false, address: { address: '10.0.1.41', prefix: 24 } });
    assert.deepEqual(parseHostnameFile(file('uss1.esan.data1 netmask 255.255.255.0 broadcast 192.0.2.255\n'), hosts).address, { address: '192.0.2.41', prefix: 24 });
    assert.equal(parseHostnameFile(file('10.0.1.41\n'), hosts).address, undefined, 'the mask would come from /etc/netmasks');
    assert.equal(parseHostnameFile(file('10.0.1.41/24\n\n'), hosts).blankLine, true);
  });

  test('svcs: nwam absent (OmniOS) or online (an OpenSolaris install)', () => {
    assert.deepEqual(parseSvcsPhysical('online         svc:/network/physical:default\n'), { default: 'online' });
    assert.deepEqual(parseSvcsPhysical('disabled       svc:/network/physical:default\nonline         svc:/network/physical:nwam\n'), { default: 'disabled', nwam: 'online' });
  });

  test('the whole OmniOS sample: ipadm style, live addresses from ipadm, interfaces, routes, files', () => {
    const f = networkProfiles.illumos.parseFacts(fixture('omnios-r151046-dhcp.facts'));
    assert.equal(f.style, 'ipadm');
    assert.deepEqual(f.nics, ['e1000g0', 'e1000g1']);
    assert.deepEqual(f.addresses, [{ address: '10.0.0.99', prefix: 24, device: 'e1000g0', handle: 'e1000g0/v4', dynamic: true, temporary: false }]);
    assert.deepEqual(f.illumos!.ipInterfaces, ['e1000g0']);
    assert.deepEqual(f.illumos!.services, { default: 'online' });
    assert.deepEqual(f.routes, [{ to: 'default', via: '10.0.0.1', device: 'e1000g0' }]);
    assert.deepEqual({ path: f.hosts.path, mode: f.hosts.mode, gid: f.hosts.gid }, { path: '/etc/inet/hosts', mode: '-r--r--r--', gid: 3 });
    assert.equal(f.resolvConf.content, 'nameserver 10.0.0.1\n');
  });

  test('the whole snv_134 sample: legacy style (no ipadm), ifconfig addresses, the runbook\'s hostname file', () => {
    const f = networkProfiles.illumos.parseFacts(fixture('snv134-runbook.facts'));
    assert.equal(f.style, 'legacy');
    assert.deepEqual(f.addresses, [{ address: '192.0.2.41', prefix: 24, device: 'e1000g0', handle: 'e1000g0', dynamic: false }]);
    assert.deepEqual(f.illumos!.ipInterfaces, ['e1000g0']);
    assert.deepEqual(f.illumos!.hostnameFiles.map((h) => h.path), ['/etc/hostname.e1000g0']);
    assert.equal(f.illumos!.defaultRouter.exists, false);
    assert.equal(f.nsswitchDns!.exists, true);
    const nwam = networkProfiles.illumos.parseFacts(fixture('snv134-nwam.facts'));
    assert.deepEqual(nwam.illumos!.services, { default: 'disabled', nwam: 'online' });
    assert.deepEqual(nwam.illumos!.ipInterfaces, ['e1000g0', 'e1000g1']);
    assert.deepEqual(nwam.addresses.map((a) => a.device), ['e1000g0'], 'e1000g1 is plumbed without an address');
  });

  test('a command the facts need that failed is refused, not read as empty', () => {
    const broken = fixture('omnios-r151046-static.facts').replace('::esxi-zfs:: exit:0 22 - - - dladm', '::esxi-zfs:: exit:1 22 - - - dladm');
    assert.equal(kind(() => networkProfiles.illumos.parseFacts(broken)), 'FactsUnreadable');
  });
});
