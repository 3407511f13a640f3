import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseDiskFiles, parseIllumosFormat, parseLsblk, parsePoolDevices, parseZpoolList,
} from '../../core/guest/probe-parse';
import { guestProfile } from '../../core/guest/profile';

test('illumos: the runbook\'s `format` listing gives c8t1d0 and the DDRdrive X1 log device (golden: illumos cannot run here)', () => {
  const output = `Searching for disks...done

AVAILABLE DISK SELECTIONS:
       0. c8t0d0 <DEFAULT cyl 4093 alt 2 hd 128 sec 32>
       1. c8t1d0 <VMware-Virtual disk-1.0-256.00GB>
       2. c11t0d0 <DDRDRIVE-X1-0030-3.87GB>
Specify disk (enter its number): `;
  assert.deepEqual(parseIllumosFormat(output), [
    { name: 'c8t0d0', sizeBytes: 0, model: 'DEFAULT cyl 4093 alt 2 hd 128 sec 32' },
    { name: 'c8t1d0', sizeBytes: 256 * 2 ** 30, model: 'VMware-Virtual disk-1.0' },
    { name: 'c11t0d0', sizeBytes: Math.trunc(3.87 * 2 ** 30), model: 'DDRDRIVE-X1-0030' },
  ]);
  assert.deepEqual(guestProfile('illumos').diskListings('/ignored').map((l) => l.argv), [['sh', '-c', 'format </dev/null']]);
});

test('linux: lsblk disks and a disk directory', () => {
  const lsblk = 'NAME="vda" SIZE="274877906944" MODEL="" TYPE="disk"\nNAME="zram0" SIZE="0" MODEL="" TYPE="disk"\nNAME="sr0" SIZE="1024" MODEL="QEMU DVD" TYPE="rom"\nNAME="sdb" SIZE="4160749568" MODEL="DDRDRIVE X1 " TYPE="disk"\n';
  assert.deepEqual(parseLsblk(lsblk), [
    { name: '/dev/vda', sizeBytes: 274877906944, model: undefined },
    { name: '/dev/sdb', sizeBytes: 4160749568, model: 'DDRDRIVE X1' },
  ]);
  assert.deepEqual(parseDiskFiles('/srv/disks/c9t0d0\t536870912\n/srv/disks/c8t1d0\t2147483648\n'), [
    { name: '/srv/disks/c8t1d0', sizeBytes: 2147483648 },
    { name: '/srv/disks/c9t0d0', sizeBytes: 536870912 },
  ]);
  const [, directory] = guestProfile('linux').diskListings('/srv/disks');
  assert.deepEqual(directory!.argv.slice(0, 2), ['sh', '-c']);
  assert.equal(directory!.argv.at(-1), '/srv/disks', 'the directory is an argument, not part of the script');
});

test('zpool list sizes, human or exact (ZFS\'s size grammar: a fraction cut to whole bytes)', () => {
  assert.deepEqual(parseZpoolList('sp1\t1.98G\t444K\t1.98G\tONLINE\n'), [
    { name: 'sp1', sizeBytes: Math.trunc(1.98 * 2 ** 30), allocatedBytes: 444 * 1024, freeBytes: Math.trunc(1.98 * 2 ** 30), health: 'ONLINE' },
  ]);
  assert.deepEqual(parseZpoolList('sp1\t2147483648\t0\t2147483648\tDEGRADED\n'), [
    { name: 'sp1', sizeBytes: 2 ** 31, allocatedBytes: 0, freeBytes: 2 ** 31, health: 'DEGRADED' },
  ]);
  assert.throws(() => parseZpoolList('sp1\tlots\t0\t0\tONLINE'), { message: 'unexpected zpool list line: "sp1\\tlots\\t0\\t0\\tONLINE" ("lots" is not a size)' });
  assert.throws(() => parseZpoolList('sp1\t0\t0\t0'), { message: 'unexpected zpool list line: "sp1\\t0\\t0\\t0"' });
});

test('zpool status: which pool each device belongs to', () => {
  const status = `  pool: sp1
 state: ONLINE
 scrub: none requested
config:

	NAME                 STATE     READ WRITE CKSUM
	sp1                  ONLINE       0     0     0
	  /srv/disks/c8t1d0  ONLINE       0     0     0
	logs
	  /srv/disks/c11t0d0  ONLINE       0     0     0

errors: No known data errors
`;
  const devices = parsePoolDevices(status);
  assert.equal(devices.get('/srv/disks/c8t1d0'), 'sp1');
  assert.equal(devices.get('/srv/disks/c11t0d0'), 'sp1');
  assert.equal(devices.get('sp1'), undefined);
  assert.deepEqual([...devices.keys()], ['/srv/disks/c8t1d0', '/srv/disks/c11t0d0']);
});

test('zpool status: group lines of every kind (dRAID\'s and its distributed spares too) are not devices; devices named like groups are; files under errors: are not', () => {
  const status = `  pool: tank
 state: ONLINE
config:

	NAME              STATE     READ WRITE CKSUM
	tank              ONLINE       0     0     0
	  mirror-10       ONLINE       0     0     0
	    spare-disk    ONLINE       0     0     0
	    /d/logs       ONLINE       0     0     0
	  raidz           ONLINE       0     0     0
	    sdb           ONLINE       0     0     0
	  raidz3-0        ONLINE       0     0     0
	    sdc           ONLINE       0     0     0
	  draid2:4d:9c:1s-0  ONLINE    0     0     0
	    sdd           ONLINE       0     0     0
	spares
	  draid2-0-0      AVAIL
	  sdf             AVAIL

errors: Permanent errors have been detected in the following files:

        /tank/file
  pool: sp1
config:
	NAME    STATE
	sp1     ONLINE
	  sde   ONLINE
`;
  assert.deepEqual(Object.fromEntries(parsePoolDevices(status)), {
    'spare-disk': 'tank', '/d/logs': 'tank', sdb: 'tank', sdc: 'tank', sdd: 'tank', sdf: 'tank', sde: 'sp1',
  });
});

test('lsblk: a line without MODEL; zpool list: blank lines are skipped', () => {
  assert.deepEqual(parseLsblk('NAME="vdb" SIZE="512" TYPE="disk"\n\n'), [{ name: '/dev/vdb', sizeBytes: 512, model: undefined }]);
  assert.deepEqual(parseZpoolList(' \nsp1\t1K\t0\t1K\tONLINE\n  \n'), [{ name: 'sp1', sizeBytes: 1024, allocatedBytes: 0, freeBytes: 1024, health: 'ONLINE' }]);
});

test('illumos format: two-digit numbers, disks without a target or with long numbers, sizes without decimals or not at the label\'s end', () => {
  const output = `       10. c1d0 <ST3500418AS-500GB>
      11.  c10t12d34   <ATA-ST1000-1TB-disk>
       12. c2t0d0<no-space-1GB>
       13. c2t1d0 <Foo-1.5TB>`;
  assert.deepEqual(parseIllumosFormat(output), [
    { name: 'c1d0', sizeBytes: 500 * 2 ** 30, model: 'ST3500418AS' },
    { name: 'c10t12d34', sizeBytes: 0, model: 'ATA-ST1000-1TB-disk' },
    { name: 'c2t1d0', sizeBytes: 1.5 * 2 ** 40, model: 'Foo' },
  ]);
});
