/** The grammars of core/names.ts and core/cron.ts at their edges: each limit, each refused character. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  absolutePathProblem, cidrProblem, datasetNameProblem, diskProblem, hostNameProblem, ipv4Problem, keyFilePathProblem,
  loginNameProblem, mountpointProblem, poolNameProblem, portGroupNameProblem, propertyValueProblem, userNameProblem,
  vswitchNameProblem,
} from '../../core/names';
import { cronProblem } from '../../core/cron';
import { shown, shownList } from '../../core/show';
import { timeZoneProblem } from '../../inventory/time-zone';
import { vsphereUrlProblem } from '../../inventory/vsphere-url';
import { durationMs } from '../../inventory/duration';

const ok = (problem: string | undefined, what: string) => assert.equal(problem, undefined, `${what}: ${problem}`);
const refused = (problem: string | undefined, pattern: RegExp, what: string) => {
  assert.ok(problem, `${what} was accepted`);
  assert.match(problem, pattern, what);
};

test('pool names: a letter first, ZFS characters, not reserved, not a disk name, at most 240', () => {
  for (const name of ['sp1', 'tank', 'a', 'A.b:c_d-e', 'mirrored', 'logs', 'c']) ok(poolNameProblem(name), name);
  for (const name of ['mirror', 'raidz', 'raidz2', 'draid3', 'spare', 'log', 'cache', 'special', 'dedup']) refused(poolNameProblem(name), /reserved by ZFS/, name);
  refused(poolNameProblem('c0t0d0'), /illumos disk name/, 'c0t0d0');
  refused(poolNameProblem('1pool'), /start with a letter/, '1pool');
  refused(poolNameProblem('-o'), /start with a letter/, '-o');
  refused(poolNameProblem('sp 1'), /start with a letter and use only/, 'space');
  ok(poolNameProblem(`p${'a'.repeat(239)}`), '240');
  refused(poolNameProblem(`p${'a'.repeat(240)}`), /longer than 240/, '241');
});

test('dataset names: the pool, then components without "..", "@", "#" or a leading "-", at most 255', () => {
  for (const name of ['sp1', 'sp1/nas/vol0', 'sp1/a.b/c:d/e_f-g', 'sp1/.hidden']) ok(datasetNameProblem(name), name);
  refused(datasetNameProblem('sp1/a@snap'), /snapshot \(@\)/, '@');
  refused(datasetNameProblem('sp1/a#mark'), /bookmark \(#\)/, '#');
  refused(datasetNameProblem('sp1//a'), /empty component/, '//');
  refused(datasetNameProblem('sp1/a/'), /empty component/, 'trailing /');
  refused(datasetNameProblem('sp1/a..b'), /'\.\.'/, '..');
  refused(datasetNameProblem('sp1/-R'), /must not start with '-'/, '-R');
  refused(datasetNameProblem('sp1/a b'), /must not contain " "/, 'space');
  refused(datasetNameProblem('mirror/a'), /dataset name: pool name "mirror" is reserved/, 'reserved pool');
  ok(datasetNameProblem(`sp1/${'a'.repeat(251)}`), '255');
  refused(datasetNameProblem(`sp1/${'a'.repeat(252)}`), /longer than 255/, '256');
});

test('host names: RFC 1123 labels of at most 63, the whole at most 253', () => {
  for (const name of ['vh0', 'test-san-01', 'a.b.c', '0host', 'A']) ok(hostNameProblem(name), name);
  for (const name of ['vh_0', '-vh', 'vh-', 'a..b', '.a', 'a.']) refused(hostNameProblem(name), /label/, name);
  refused(hostNameProblem(''), /1 to 253/, 'empty');
  ok(hostNameProblem('a'.repeat(63)), '63-character label');
  refused(hostNameProblem('a'.repeat(64)), /label/, '64-character label');
  const long = Array.from({ length: 4 }, () => 'a'.repeat(63)).join('.');
  ok(hostNameProblem(long.slice(0, 253)), '253');
  refused(hostNameProblem(`${long.slice(0, 251)}.ab`), /1 to 253/, '254');
});

test('user and login names', () => {
  for (const name of ['zfsadm', '_svc', 'a-b_c1', 'z'.repeat(32)]) ok(userNameProblem(name), name);
  for (const name of ['Zfsadm', '1user', '-o', 'a b', 'z'.repeat(33), '']) refused(userNameProblem(name), /user name must start/, name);
  for (const name of ['root', 'administrator@vsphere.local', 'Admin_1', '_x', 'a'.repeat(64)]) ok(loginNameProblem(name), name);
  for (const name of ['-oProxyCommand=x', '.x', '@x', 'a b', 'DOMAIN\\user', 'a'.repeat(65), '']) refused(loginNameProblem(name), /login name/, name);
});

test('absolute paths and mountpoints', () => {
  for (const path of ['/', '/export/vol0', '/a/b.c/d@e+f:g-h']) ok(absolutePathProblem(path), path);
  refused(absolutePathProblem('export'), /absolute/, 'relative');
  refused(absolutePathProblem('/a b'), /may only use/, 'space');
  refused(absolutePathProblem('/a/../b'), /'\.\.'/, '..');
  refused(absolutePathProblem('/a/./b'), /'\.'/, '.');
  refused(absolutePathProblem('/a//b'), /'\/\/'/, '//');
  for (const path of ['/export/vol0', '/srv/nfs/a', '/tank', '/var/db/x', '/homes', '/etcetera', '/usrdata']) ok(mountpointProblem(path), path);
  for (const path of ['/', '/var', '/tmp', '/home', '/opt', '/mnt', '/export', '/export/']) refused(mountpointProblem(path), /system directory/, path);
  for (const path of ['/etc', '/etc/x', '/usr', '/usr/local', '/var/log/x', '/boot', '/dev/x', '/root/a', '/proc/1', '/lib64/x']) refused(mountpointProblem(path), /system's/, path);
  refused(mountpointProblem('/export/../etc'), /'\.\.'/, '..');
});

test('disks: illumos names, /dev paths, files under diskDirectory', () => {
  for (const disk of ['c8t1d0', 'c0d0', 'c1t0d0s0', 'c0t5000C500A1B2C3D4d0', '/dev/sdb', '/dev/disk/by-id/ata-X_1']) ok(diskProblem(disk), disk);
  refused(diskProblem('c0t5000C500A1B2C3Dd0'), /illumos name/, 'a WWN of 15 digits');
  refused(diskProblem('sdb'), /illumos name/, 'sdb');
  refused(diskProblem('/dev/../etc/shadow'), /'\.\.'/, 'escape');
  refused(diskProblem('/etc/shadow'), /outside \/dev \(name its directory/, '/etc');
  ok(diskProblem('/srv/disks/d0', '/srv/disks'), 'under diskDirectory');
  ok(diskProblem('/srv/disks/d0', '/srv/disks/'), 'under diskDirectory/');
  refused(diskProblem('/srv/disksX/d0', '/srv/disks'), /outside diskDirectory "\/srv\/disks"/, 'prefix only');
  refused(diskProblem('/srv/disks', '/srv/disks'), /outside/, 'the directory itself');
});

test('vSphere labels', () => {
  for (const name of ['VM Network', 'eSAN', 'VLAN-100 (prod)', 'a+b.c_d', 'x'.repeat(59)]) ok(portGroupNameProblem(name), name);
  refused(portGroupNameProblem(''), /1 to 59/, 'empty');
  refused(portGroupNameProblem('x'.repeat(60)), /1 to 59/, '60');
  for (const name of ['-x', ' x', 'x ', 'a/b', 'a%b', 'a\\b', 'a$b', 'a;b']) refused(portGroupNameProblem(name), /starts with a letter or digit/, name);
  for (const name of ['vSwitch1', 'v', 'a.b_c-d', 'v'.repeat(31)]) ok(vswitchNameProblem(name), name);
  for (const name of ['', 'v'.repeat(32), 'v Switch', '-v', '_v']) refused(vswitchNameProblem(name), /vSwitch name/, name);
});

test('key paths: absolute or ~/, never the key itself, never echoed', () => {
  for (const path of ['/etc/esxi-zfs/id_ed25519', '~/.ssh/id_ed25519']) ok(keyFilePathProblem(path), path);
  refused(keyFilePathProblem('id_ed25519'), /absolute path or start with ~\//, 'relative');
  refused(keyFilePathProblem('~user/.ssh/id'), /absolute path or start with ~\//, '~user');
  refused(keyFilePathProblem('~/../x'), /'\.\.'/, '~/..');
  const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAsecret\n-----END OPENSSH PRIVATE KEY-----';
  const message = keyFilePathProblem(key);
  refused(message, /holds a key, not a path/, 'key');
  assert.doesNotMatch(message!, /AAAAsecret/);
  refused(keyFilePathProblem('/a\nb'), /holds a key/, 'newline');
  ok(keyFilePathProblem(`/${'a'.repeat(1023)}`), '1024');
  refused(keyFilePathProblem(`/${'a'.repeat(1024)}`), /holds a key/, '1025');
});

test('property values: a word that is never an option', () => {
  for (const value of ['on', 'lz4', '100G', 'rw,root=@10.0.0.0/24', 'a:b=c+d_e.f', '0']) ok(propertyValueProblem(value), value);
  refused(propertyValueProblem(''), /empty value/, 'empty');
  refused(propertyValueProblem('-o'), /not start with '-'/, '-o');
  refused(propertyValueProblem('a b'), /letters, digits/, 'space');
  ok(propertyValueProblem('a'.repeat(1024)), '1024');
  refused(propertyValueProblem('a'.repeat(1025)), /at most 1024/, '1025');
});

test('IPv4 addresses and prefixes', () => {
  for (const a of ['0.0.0.0', '10.0.1.41', '255.255.255.255']) ok(ipv4Problem(a), a);
  for (const a of ['256.0.0.1', '10.0.1', '10.0.1.1.1', '010.0.0.1', '1e1.0.0.1', '10.0.0.-1', '']) refused(ipv4Problem(a), /not an IPv4 address/, a);
  for (const c of ['10.0.1.41/24', '10.0.0.0/0', '10.0.0.1/32']) ok(cidrProblem(c), c);
  refused(cidrProblem('10.0.1.41'), /prefix length, like/, 'no prefix');
  refused(cidrProblem('10.0.1.41/24/1'), /prefix length, like/, 'two');
  refused(cidrProblem('10.0.1.41/33'), /0 to 32/, '33');
  refused(cidrProblem('10.0.1.41/x'), /0 to 32/, 'x');
  refused(cidrProblem('10.0.1.441/24'), /not an IPv4/, 'bad address');
});

test('cron as Temporal schedules and crontab both read it', () => {
  for (const cron of ['59 23 * * *', '*/15 1-3,5 1 jan-mar mon-fri', '0 0 * * 7', '0 0 * * 0-7', '0 0 1-31/2 * *', '0 0 * DEC SUN', ' 0 0 * * * ']) ok(cronProblem(cron), cron);
  refused(cronProblem('0 0 * *'), /five fields.*not 4/, 'four');
  refused(cronProblem('0 0 0 * * *'), /not 6/, 'six');
  refused(cronProblem('60 0 * * *'), /minute value 60 is outside 0-59/, '60');
  refused(cronProblem('0 24 * * *'), /hour value 24/, '24');
  refused(cronProblem('0 0 0 * *'), /day-of-month value 0/, 'day 0');
  refused(cronProblem('0 0 32 * *'), /day-of-month value 32/, 'day 32');
  refused(cronProblem('0 0 * 13 *'), /month value 13/, 'month 13');
  refused(cronProblem('0 0 * * 8'), /day-of-week value 8/, 'dow 8');
  refused(cronProblem('0 0 * * mon/0'), /step "0" must be a number from 1/, 'step 0');
  refused(cronProblem('0 0 * * 1/2/3'), /more than one '\/'/, 'two slashes');
  refused(cronProblem('0 5-1 * * *'), /ends before it starts/, 'reversed');
  refused(cronProblem('0 0 * * mon-sun'), /ends before it starts/, 'mon-sun');
  refused(cronProblem('jan 0 * * *'), /minute value "jan" is not a number 0-59$/, 'name in minutes');
  refused(cronProblem('0 0 * january *'), /three-letter name/, 'long name');
  for (const cron of ['0 0 L * *', '0 0 15W * *', '0 0 ? * *', '0 0 * * 5#3', 'H H * * *']) refused(cronProblem(cron), /crontab extension/, cron);
  refused(cronProblem('@weekly'), /not accepted: write the five fields/, '@weekly');
  refused(cronProblem('TZ=UTC 0 0 * * *'), /timezone field/, 'TZ=');
  refused(cronProblem('CRON_TZ=UTC 0 0 * * *'), /timezone field/, 'CRON_TZ=');
  refused(cronProblem(`0 0 * * ${'1,'.repeat(100)}1`), /at most 200/, 'long');
});

test('time zones spelt as Temporal accepts them', () => {
  for (const zone of ['UTC', 'America/Chicago', 'Etc/UTC', 'Asia/Kolkata', 'Europe/Kyiv', 'US/Central', 'EST5EDT']) ok(timeZoneProblem(zone), zone);
  refused(timeZoneProblem('america/chicago'), /case-sensitive in Temporal: write America\/Chicago/, 'lower case');
  refused(timeZoneProblem('Utc'), /write UTC/, 'Utc');
  refused(timeZoneProblem('Local'), /not an IANA time zone/, 'Local');
  refused(timeZoneProblem(''), /not an IANA time zone/, 'empty');
});

test('vSphere URLs', () => {
  for (const url of ['https://vcenter.example/sdk', 'https://10.0.0.5:8443/sdk', 'http://127.0.0.1:8989/sdk', 'https://vc']) ok(vsphereUrlProblem(url), url);
  refused(vsphereUrlProblem('vcenter.example/sdk'), /must be a URL/, 'no scheme');
  refused(vsphereUrlProblem('https://user@vc/sdk'), /user or password/, 'user');
  refused(vsphereUrlProblem('https://:pw@vc/sdk'), /user or password/, 'password');
  refused(vsphereUrlProblem('ftp://vc/sdk'), /https:\/\//, 'ftp');
  refused(vsphereUrlProblem('https://vc/sdk#x'), /query or fragment/, 'fragment');
  refused(vsphereUrlProblem('https://vc/sd k'), /path uses/, 'space in the path');
  refused(vsphereUrlProblem('https://vc_1/sdk'), /host name or an IPv4/, 'underscore host');
  refused(vsphereUrlProblem(`https://vc/${'a'.repeat(2048)}`), /longer than 2048/, 'long');
});

test('durations', () => {
  assert.equal(durationMs('250ms'), 250);
  assert.equal(durationMs('90s'), 90_000);
  assert.equal(durationMs('30m'), 1_800_000);
  assert.equal(durationMs('2h'), 7_200_000);
  assert.equal(durationMs('1d'), 86_400_000);
  assert.throws(() => durationMs('1w'), /not a duration/);
  assert.throws(() => durationMs('1234567890s'), /not a duration/);
});

test('shown values: quoted, escaped, bounded', () => {
  assert.equal(shown('vh0'), '"vh0"');
  assert.equal(shown('a\nb\u001b[2K\u0000'), '"a\\nb\\u001b[2K\\u0000"');
  assert.equal(shown('\u202e'), '"\\u202e"', 'a bidi override is escaped');
  assert.equal(shown(`${'a'.repeat(60)}`), `"${'a'.repeat(60)}"`);
  assert.equal(shown(`${'a'.repeat(61)}`), `"${'a'.repeat(60)}…(61 chars)"`);
  assert.equal(shownList([]), 'none');
  assert.equal(shownList(['a', 'b']), '"a", "b"');
  assert.equal(shownList(['a', 'b', 'c', 'd', 'e', 'f']), '"a", "b", "c", "d", "e" and 1 more');
});

test('cron: every month and day name, in any case, as values and range ends', () => {
  const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  for (const m of months) {
    ok(cronProblem(`0 0 * ${m} *`), m);
    ok(cronProblem(`0 0 * ${m.toUpperCase()} *`), m.toUpperCase());
  }
  for (const d of days) {
    ok(cronProblem(`0 0 * * ${d}`), d);
    ok(cronProblem(`0 0 * * ${d.toUpperCase()}`), d.toUpperCase());
  }
  for (const [i, m] of months.entries()) if (i > 0) refused(cronProblem(`0 0 * ${m}-jan *`), /ends before it starts/, `${m}-jan`);
  for (const [i, d] of days.entries()) if (i > 0) refused(cronProblem(`0 0 * * ${d}-sun`), /ends before it starts/, `${d}-sun`);
  ok(cronProblem('0 0 * feb-feb *'), 'feb-feb');
  ok(cronProblem('0 0 * * sun-sat'), 'sun-sat');
  refused(cronProblem('0 0 * mon *'), /month value "mon" is not a number 1-12 or a three-letter name \(jan, feb, \.\.\.\)/, 'a day in months');
  refused(cronProblem('0 0 * * jan'), /day-of-week value "jan" is not a number 0-7 or a three-letter name \(sun, mon, \.\.\.\)/, 'a month in days');
  refused(cronProblem('0 0 * * HWL'), /crontab extension/, 'three letters that are no name');
});

test('cron: steps, ranges and spacing at their edges', () => {
  for (const cron of ['*/1 * * * *', '5/2 * * * *', '*/59 * * * *', '0  0 * * *', '0\t0 * * *', `${'0,'.repeat(95)}0 0 * * *`]) ok(cronProblem(cron), JSON.stringify(cron));
  refused(cronProblem('*/1x * * * *'), /minute step "1x" must be a number from 1/, '1x');
  refused(cronProblem('*/100 * * * *'), /minute step "100"/, '100');
  refused(cronProblem('*/ * * * *'), /minute step ""/, 'empty step');
  refused(cronProblem('1- * * * *'), /minute value "" is not a number 0-59/, 'open range');
  refused(cronProblem('-1 * * * *'), /minute value "" is not a number/, 'leading dash');
  refused(cronProblem('0 1-2-3 * * *'), /hour item "1-2-3" has more than one '-'/, 'two dashes');
  refused(cronProblem('0 0 1/2/3 * *'), /day-of-month item "1\/2\/3" has more than one '\/'/, 'two slashes');
  refused(cronProblem('0 0 * * TZ=1'), /day-of-week value "TZ=1"/, 'TZ= not first is just a bad value');
  refused(cronProblem('@every 5m'), /^"@every" is not accepted/, '@every');
  refused(cronProblem('100 * * * *'), /minute value "100" is not a number 0-59/, 'three digits');
  assert.equal(cronProblem(`0 0 * * ${'1,'.repeat(94)}1`.padEnd(200)), undefined, '200 characters');
  refused(cronProblem(`0 0 * * ${'1,'.repeat(96)}1`), /at most 200/, '201 characters');
});

test('shown: any value, and a list of exactly five', () => {
  assert.equal(shown(42), '"42"');
  assert.equal(shown(undefined), '"undefined"');
  assert.equal(shown(''), '""');
  assert.equal(shownList(['a', 'b', 'c', 'd', 'e']), '"a", "b", "c", "d", "e"');
  assert.equal(shownList(['a', 'b', 'c'], 2), '"a", "b" and 1 more');
});

test('durations: the bounds themselves are inside', () => {
  assert.throws(() => durationMs('x90s'), /not a duration/);
  assert.throws(() => durationMs('90sx'), /not a duration/);
  assert.equal(durationMs('999999999ms'), 999_999_999);
});

test('vSphere URLs: an empty user info, a URL of exactly 2048 characters', () => {
  refused(vsphereUrlProblem('https://@vc/sdk'), /user or password/, 'empty user info');
  refused(vsphereUrlProblem('HTTPS://u@vc/sdk'), /user or password/, 'upper-case scheme');
  const url = 'https://vc/';
  ok(vsphereUrlProblem(url + 'a'.repeat(2048 - url.length)), '2048');
  refused(vsphereUrlProblem(url + 'a'.repeat(2049 - url.length)), /longer than 2048/, '2049');
  refused(vsphereUrlProblem('https://vc/sdk?'), /query or fragment/, 'an empty query mark is dropped by URL');
});

test('shown escapes non-ASCII to four hex digits', () => {
  assert.equal(shown('é'), '"\\u00e9"');
  assert.equal(shown('\u007f'), '"\\u007f"');
});
