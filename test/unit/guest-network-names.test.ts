/**
 * planNameResolution: the host name, the hosts file's esxi-zfs block (lines outside it kept byte
 * for byte, conflicts refused), resolv.conf and, on illumos, nsswitch.conf from nsswitch.dns.
 *
 *   node --import tsx --test test/unit/guest-network-names.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { mergeHostsBlock, nameFactsScript, networkProfiles, parseNameFacts, planNameResolution, type NameFacts } from '../../core/guest/network';
import { nsswitchContent, resolvContent } from '../../core/guest/network/resolv';
import { contentOf, networkFixture, summary, uss1Spec, kindOf } from './guest-network-spec';

const entries = [{ address: '192.0.2.41', names: ['uss1.example.net', 'uss1'] }, { address: '10.0.1.10', names: ['vh0-nas'] }];

describe('the hosts block', () => {
  test('added at the end the first time; every byte outside it kept, also without a final newline and with CRLF lines', () => {
    const before = '127.0.0.1\tlocalhost\r\n# keep me   \n192.0.2.99 printer';
    const after = mergeHostsBlock(before, entries);
    assert.equal(after, `${before}\n# esxi-zfs begin: from the inventory; lines up to "# esxi-zfs end" are replaced\n192.0.2.41\tuss1.example.net uss1\n10.0.1.10\tvh0-nas\n# esxi-zfs end\n`);
  });

  test('replaced in place on the next run; lines around it untouched; the same entries give the same file', () => {
    const first = mergeHostsBlock('a\n', entries);
    const withTail = `${first}b after\n`;
    const second = mergeHostsBlock(withTail, [entries[1]!]);
    assert.equal(second, 'a\n# esxi-zfs begin: from the inventory; lines up to "# esxi-zfs end" are replaced\n10.0.1.10\tvh0-nas\n# esxi-zfs end\nb after\n');
    assert.equal(mergeHostsBlock(second, [entries[1]!]), second);
  });

  test('a name of ours outside the block with another IPv4 address is refused, naming the line', () => {
    assert.equal(kindOf(() => mergeHostsBlock('10.9.9.9 vh0-nas\n', entries)), 'HostsConflict');
    assert.throws(() => mergeHostsBlock('10.9.9.9 VH0-NAS # old\n', entries), /"10\.9\.9\.9 VH0-NAS # old"/);
  });

  test('not a conflict: loopback lines (Debian 127.0.1.1, OpenSolaris 127.0.0.1 uss1), IPv6 lines, the same address, a name in a comment', () => {
    const text = '127.0.1.1\tuss1.example.net\tuss1\n::1 uss1 localhost\n10.0.1.10 vh0-nas\n10.9.9.9 other # vh0-nas\n';
    assert.match(mergeHostsBlock(text, entries), /^# esxi-zfs end$/m);
  });

  test('markers out of order, doubled or unpaired are refused', () => {
    for (const text of ['# esxi-zfs begin\n', '# esxi-zfs end\n# esxi-zfs begin\n', '# esxi-zfs begin\n# esxi-zfs end\n# esxi-zfs begin\n# esxi-zfs end\n']) {
      assert.equal(kindOf(() => mergeHostsBlock(text, entries)), 'HostsFileMalformed', text);
    }
  });

  test('entries are checked before they reach the file: a name with a newline, a bad address, one name with two addresses', () => {
    assert.equal(kindOf(() => mergeHostsBlock('', [{ address: '10.0.1.10', names: ['vh0\n10.6.6.6 evil'] }])), 'BadNetworkSpec');
    assert.equal(kindOf(() => mergeHostsBlock('', [{ address: '10.0.1.300', names: ['vh0'] }])), 'BadNetworkSpec');
    assert.equal(kindOf(() => mergeHostsBlock('', [{ address: '10.0.1.10', names: ['vh0'] }, { address: '10.0.1.11', names: ['VH0'] }])), 'BadNetworkSpec');
  });
});

describe('resolv.conf and nsswitch.conf', () => {
  test('nameserver lines become the spec\'s; with a domain, domain/search become "domain"; other lines stay, ours after them', () => {
    const before = '# from the installer\nsearch example.org\nnameserver 10.0.0.1\noptions timeout:2\n';
    assert.equal(resolvContent(before, { domain: 'example.net', servers: ['192.0.2.53'] }), '# from the installer\noptions timeout:2\ndomain example.net\nnameserver 192.0.2.53\n');
    assert.equal(resolvContent(before, { servers: ['192.0.2.53', '192.0.2.54'] }), '# from the installer\nsearch example.org\noptions timeout:2\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n');
    assert.equal(kindOf(() => resolvContent('', { servers: [] })), 'BadNetworkSpec');
    assert.equal(kindOf(() => resolvContent('', { servers: ['192.0.2.53\nnameserver 6.6.6.6'] })), 'BadNetworkSpec');
  });

  test('nsswitch.conf: copied from nsswitch.dns when hosts: lacks dns (the runbook\'s step); edited when the template lacks it too; left when it has it', () => {
    const files = 'passwd: files\nhosts:      files\nipnodes:    files\n';
    const dns = 'passwd: files\nhosts:      files dns\nipnodes:    files dns\n';
    assert.deepEqual(nsswitchContent(files, dns), { content: dns, from: 'template' });
    assert.deepEqual(nsswitchContent(files, files), { content: 'passwd: files\nhosts:      files dns\nipnodes:    files dns\n', from: 'edit' });
    assert.equal(nsswitchContent(dns, undefined), undefined);
  });
});

describe('planNameResolution', () => {
  test('the runbook\'s uss1 on snv_134: hosts block, resolv.conf, nsswitch.conf from nsswitch.dns; nodename and name found', () => {
    const facts = networkProfiles.illumos.parseFacts(networkFixture('snv134-runbook.facts'));
    const plan = planNameResolution(uss1Spec(), facts, networkProfiles.illumos);
    assert.deepEqual(summary(plan.actions), ['write /etc/inet/hosts (444 0:3)', 'write /etc/resolv.conf (644 0:0)', 'write /etc/nsswitch.conf (644 0:3)']);
    assert.equal(contentOf(plan.actions, '/etc/inet/hosts'), `${facts.hosts.content}# esxi-zfs begin: from the inventory; lines up to "# esxi-zfs end" are replaced
192.0.2.41\tuss1.example.net uss1
10.0.1.10\tvh0-nas
10.0.1.11\tvh1-nas
10.0.1.12\tvh2-nas
10.0.1.13\tvh3-nas
# esxi-zfs end
`);
    assert.equal(contentOf(plan.actions, '/etc/resolv.conf'), 'domain example.net\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n');
    assert.equal(contentOf(plan.actions, '/etc/nsswitch.conf'), facts.nsswitchDns!.content);
    assert.deepEqual(plan.report.found, ['/etc/nodename: as planned', 'host name uss1']);
  });

  test('OmniOS: the same block in /etc/inet/hosts (not through the /etc/hosts symlink); resolv.conf created', () => {
    const plan = planNameResolution(uss1Spec(), networkProfiles.illumos.parseFacts(networkFixture('omnios-r151046-static.facts')), networkProfiles.illumos);
    assert.deepEqual(summary(plan.actions), ['write /etc/inet/hosts (444 0:3)', 'write /etc/resolv.conf (644 0:0)', 'write /etc/nsswitch.conf (644 0:3)']);
  });

  test('Debian: without dns in the spec resolv.conf is not touched; a new host name is set live and at boot', () => {
    const facts = networkProfiles.linux.parseFacts(networkFixture('debian-blank-static.facts'));
    const plan = planNameResolution(uss1Spec({ hostName: 'uss9', dns: undefined }), facts, networkProfiles.linux);
    assert.deepEqual(summary(plan.actions), ['write /etc/hostname (644 0:0)', 'run hostname uss9', 'write /etc/hosts (644 0:0)']);
    assert.match(contentOf(plan.actions, '/etc/hosts')!, /\n192\.0\.2\.41\tuss9\n/);
    assert.ok(plan.report.found.includes('no dns in the spec: resolv.conf left as it is'));
  });

  test('a resolv.conf that is a symlink (systemd-resolved, resolvconf) is not replaced: a warning says where DNS must go', () => {
    const facts = networkProfiles.linux.parseFacts(networkFixture('debian-blank-static.facts'));
    const linked = { ...facts, resolvConf: { path: '/etc/resolv.conf', exists: true, content: '', symlink: 'lrwxrwxrwx 1 root root 39 /etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf' } };
    const plan = planNameResolution(uss1Spec(), linked, networkProfiles.linux);
    assert.ok(!summary(plan.actions).some((s) => s.includes('resolv.conf')));
    assert.match(plan.report.warnings[0]!, /is a symlink .*stub-resolv\.conf/);
  });

  test('a conflicting hosts line stops the plan with a typed error', () => {
    const facts = networkProfiles.linux.parseFacts(networkFixture('debian-blank-static.facts'));
    const conflicting = { ...facts, hosts: { ...facts.hosts, content: `${facts.hosts.content}10.0.9.9 vh2-nas\n` } };
    assert.equal(kindOf(() => planNameResolution(uss1Spec(), conflicting, networkProfiles.linux)), 'HostsConflict');
  });
});

test("an installer's line for the VM's own name goes stale when the management address moves: commented out, other lines kept", () => {
  const content = '127.0.0.1\tlocalhost\n192.0.2.200\tuss1.example.com uss1\n192.0.2.9\tbackup\n';
  const merged = mergeHostsBlock(content, [{ address: '192.0.2.41', names: ['uss1'] }], 'uss1');
  assert.match(merged, /^127\.0\.0\.1\tlocalhost\n#esxi-zfs-off# 192\.0\.2\.200\tuss1\.example\.com uss1\n192\.0\.2\.9\tbackup\n# esxi-zfs begin/);
  assert.match(merged, /\n192\.0\.2\.41\tuss1\n# esxi-zfs end\n$/);
  assert.equal(mergeHostsBlock(merged, [{ address: '192.0.2.41', names: ['uss1'] }], 'uss1'), merged, 'a second merge changes nothing');
  // A line that names the VM and something else is the operator's: refused, not edited.
  assert.throws(() => mergeHostsBlock('192.0.2.200\tuss1 nas\n', [{ address: '192.0.2.41', names: ['uss1'] }], 'uss1'), /HostsConflict|outside the esxi-zfs block/);
  // Without `self`, as before: refused.
  assert.throws(() => mergeHostsBlock(content, [{ address: '192.0.2.41', names: ['uss1'] }]), /outside the esxi-zfs block/);
});

describe('the name facts: the name files alone, read in one round trip', () => {
  const names = ['hostName', 'hostNameFile', 'hosts', 'resolvConf', 'nsswitch', 'nsswitchDns'] as const;
  const pick = (facts: NameFacts) => Object.fromEntries(names.filter((n) => facts[n] !== undefined).map((n) => [n, facts[n]]));

  test('parsed from the sections the full facts script prints, they are what the full facts hold, on every captured guest', () => {
    for (const [file, os] of [['debian-configured', 'linux'], ['debian-blank-static', 'linux'], ['omnios-r151046-static', 'illumos'], ['snv134-runbook', 'illumos']] as const) {
      const profile = networkProfiles[os];
      const text = networkFixture(`${file}.facts`);
      assert.deepEqual(parseNameFacts(text, profile), pick(profile.parseFacts(text)), file);
    }
  });

  test('the linux script run here reads this machine\'s host name and /etc/hosts, owner and mode', () => {
    const profile = networkProfiles.linux;
    const r = spawnSync('sh', ['-c', nameFactsScript(profile).text], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const facts = parseNameFacts(r.stdout, profile);
    assert.equal(facts.hostName, hostname());
    assert.equal(facts.hosts.content, readFileSync('/etc/hosts', 'utf8'));
    assert.equal(facts.hosts.uid, statSync('/etc/hosts').uid);
    assert.equal(facts.nsswitch, undefined, 'linux reads no nsswitch.conf');
  });
});
