import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyReceiveError,
  isMissingDataset,
  parseDatasetProps,
  parseFilesystemVersionBanner,
  parsePoolVersionBanner,
  parseSnapshotProps,
  parseZpoolGet,
} from '../../core/zfs/parse';

// Captured from zfs-fuse (pool version 23) in a lab namespace:
// zfs get -H -p -d 1 -o name,property,value guid,createtxg,creation,userrefs sp1/nas/vol0
// The dataset itself comes first (its userrefs is `-`); one snapshot is held.
const ZFS_FUSE_SNAPSHOTS = [
  'sp1/nas/vol0\tguid\t16659204956124717773',
  'sp1/nas/vol0\tcreatetxg\t7',
  'sp1/nas/vol0\tcreation\t1795577870',
  'sp1/nas/vol0\tuserrefs\t-',
  'sp1/nas/vol0@esxi-zfs_20261125T235900Z\tguid\t15518290585636941550',
  'sp1/nas/vol0@esxi-zfs_20261125T235900Z\tcreatetxg\t12',
  'sp1/nas/vol0@esxi-zfs_20261125T235900Z\tcreation\t1795577870',
  'sp1/nas/vol0@esxi-zfs_20261125T235900Z\tuserrefs\t1',
  'sp1/nas/vol0@31-04-10-23:59\tguid\t1991533326376887493',
  'sp1/nas/vol0@31-04-10-23:59\tcreatetxg\t17',
  'sp1/nas/vol0@31-04-10-23:59\tcreation\t1795577871',
  'sp1/nas/vol0@31-04-10-23:59\tuserrefs\t0',
  'sp1/nas/vol0@esxi-zfs_20261126T235900Z\tguid\t7166965987915378380',
  'sp1/nas/vol0@esxi-zfs_20261126T235900Z\tcreatetxg\t22',
  'sp1/nas/vol0@esxi-zfs_20261126T235900Z\tcreation\t1795577871',
  'sp1/nas/vol0@esxi-zfs_20261126T235900Z\tuserrefs\t0',
  'sp1/nas/vol0/child\tguid\t13405682438919804115',
  'sp1/nas/vol0/child\tcreatetxg\t30',
  'sp1/nas/vol0/child\tcreation\t1795577872',
  'sp1/nas/vol0/child\tuserrefs\t-',
  '',
].join('\n');

test('parseSnapshotProps: zfs-fuse output, snapshots only, exact 64-bit guids as strings', () => {
  assert.deepEqual(parseSnapshotProps(ZFS_FUSE_SNAPSHOTS), [
    {
      dataset: 'sp1/nas/vol0',
      name: 'esxi-zfs_20261125T235900Z',
      guid: '15518290585636941550',
      createtxg: '12',
      creation: 1795577870,
      userrefs: 1,
    },
    { dataset: 'sp1/nas/vol0', name: '31-04-10-23:59', guid: '1991533326376887493', createtxg: '17', creation: 1795577871, userrefs: 0 },
    { dataset: 'sp1/nas/vol0', name: 'esxi-zfs_20261126T235900Z', guid: '7166965987915378380', createtxg: '22', creation: 1795577871, userrefs: 0 },
  ]);
});

test('parseSnapshotProps: guids beyond 2^53 stay distinct (a JS number would merge them)', () => {
  const out = [
    'sp1/nas/vol0@a\tguid\t17464251723582366000',
    'sp1/nas/vol0@a\tcreatetxg\t5',
    'sp1/nas/vol0@a\tcreation\t1795577870',
    'sp1/nas/vol0@b\tguid\t17464251723582366001',
    'sp1/nas/vol0@b\tcreatetxg\t6',
    'sp1/nas/vol0@b\tcreation\t1795577870',
    'sp1/nas/vol0@c\tguid\t18446744073709551615',
    'sp1/nas/vol0@c\tcreatetxg\t7',
    'sp1/nas/vol0@c\tcreation\t1795577870',
  ].join('\n');
  assert.equal(Number('17464251723582366000'), Number('17464251723582366001'));
  assert.deepEqual(
    parseSnapshotProps(out).map((s) => s.guid),
    ['17464251723582366000', '17464251723582366001', '18446744073709551615'],
  );
  assert.throws(
    () => parseSnapshotProps(out.replace('18446744073709551615', '18446744073709551616')),
    /sp1\/nas\/vol0@c: guid "18446744073709551616" is not an unsigned 64-bit decimal/,
  );
});

test('parseSnapshotProps: sorted by createtxg numerically (not as text, not by input order, exact past 2^53)', () => {
  const row = (name: string, guid: string, txg: string) =>
    [`p/d@${name}\tguid\t${guid}`, `p/d@${name}\tcreatetxg\t${txg}`, `p/d@${name}\tcreation\t1`].join('\n');
  const out = [
    row('big2', '5', '9007199254740993'),
    row('ten', '2', '10'),
    row('big1', '4', '9007199254740992'),
    row('nine', '1', '9'),
    row('hundred', '3', '100'),
  ].join('\n');
  assert.deepEqual(
    parseSnapshotProps(out).map((s) => s.name),
    ['nine', 'ten', 'hundred', 'big1', 'big2'],
  );
});

test('parseSnapshotProps: with a dataset, other datasets\' snapshots and bookmarks are skipped', () => {
  const out = [
    'sp1/nas/vol0@a\tguid\t1',
    'sp1/nas/vol0@a\tcreatetxg\t5',
    'sp1/nas/vol0@a\tcreation\t100',
    'sp1/nas/vol0/child@a\tguid\t2',
    'sp1/nas/vol0/child@a\tcreatetxg\t5',
    'sp1/nas/vol0/child@a\tcreation\t100',
    'sp1/nas/vol0#bm\tguid\t1',
    'sp1/nas/vol0#bm\tcreatetxg\t5',
    'sp1/nas/vol0#bm\tcreation\t100',
  ].join('\n');
  assert.deepEqual(
    parseSnapshotProps(out, 'sp1/nas/vol0').map((s) => `${s.dataset}@${s.name}`),
    ['sp1/nas/vol0@a'],
  );
  assert.equal(parseSnapshotProps(out).length, 2);
});

test('parseSnapshotProps: userrefs `-` or absent (pool without holds) reads as 0; CRLF and extra properties tolerated', () => {
  const out = 'p/d@a\tguid\t1\r\np/d@a\tcreatetxg\t2\r\np/d@a\tcreation\t3\r\np/d@a\tuserrefs\t-\r\np/d@a\ttype\tsnapshot\r\np/d@b\tguid\t4\np/d@b\tcreatetxg\t5\np/d@b\tcreation\t6\n';
  assert.deepEqual(
    parseSnapshotProps(out).map((s) => [s.name, s.userrefs]),
    [['a', 0], ['b', 0]],
  );
  assert.deepEqual(parseSnapshotProps(''), []);
});

test('parseSnapshotProps: a snapshot name with spaces survives (tabs are the only separator)', () => {
  const out = 'p/d@before upgrade\tguid\t1\np/d@before upgrade\tcreatetxg\t2\np/d@before upgrade\tcreation\t3\n';
  assert.equal(parseSnapshotProps(out)[0]?.name, 'before upgrade');
});

test('parseSnapshotProps: malformed lines fail with the line number and text', () => {
  // `zfs get` without -H: space-aligned columns and a header.
  assert.throws(
    () => parseSnapshotProps('NAME            PROPERTY  VALUE  SOURCE\np/d@a  guid  1  -\n'),
    /line 1 is not "name<TAB>property<TAB>value".*"NAME {12}PROPERTY {2}VALUE {2}SOURCE"/,
  );
  assert.throws(() => parseSnapshotProps('p/d@a\tguid\t1\np/d@a\tcreatetxg\n'), /line 2 .*"p\/d@a\\tcreatetxg"/);
});

test('parseSnapshotProps: missing or non-numeric values are errors naming the snapshot', () => {
  assert.throws(() => parseSnapshotProps('p/d@a\tguid\t1\np/d@a\tcreation\t3\n'), /p\/d@a: createtxg is missing/);
  assert.throws(() => parseSnapshotProps('p/d@a\tguid\t0x1f\np/d@a\tcreatetxg\t2\np/d@a\tcreation\t3\n'), /p\/d@a: guid "0x1f"/);
  // Without -p, creation is a date: the error says so.
  assert.throws(
    () => parseSnapshotProps('p/d@a\tguid\t1\np/d@a\tcreatetxg\t2\np/d@a\tcreation\tWed Nov 25  3:37 2026\n'),
    /p\/d@a: creation "Wed Nov 25 {2}3:37 2026" is not a whole number \(was zfs get run with -p\?\)/,
  );
  assert.throws(() => parseSnapshotProps('p/d@a\tguid\t1\np/d@a\tguid\t2\n'), /p\/d@a guid is both "1" and "2"/);
});

test('parseDatasetProps: dataset → property → value, `-` → undefined', () => {
  // Captured from zfs-fuse: zfs get -H -p -o name,property,value type,used,mountpoint,origin,sharenfs sp1/nas/vol0 sp1/nas
  const out = [
    'sp1/nas\ttype\tfilesystem',
    'sp1/nas\tused\t237568',
    'sp1/nas\tmountpoint\t/sp1/nas',
    'sp1/nas\torigin\t-',
    'sp1/nas\tsharenfs\toff',
    'sp1/nas/vol0\ttype\tfilesystem',
    'sp1/nas/vol0\tused\t114688',
    'sp1/nas/vol0\tmountpoint\t/export/uss1-nas-vol0',
    'sp1/nas/vol0\treceive_resume_token\t-',
    'sp1/nas/vol0\twritten\t0',
    '',
  ].join('\n');
  assert.deepEqual(parseDatasetProps(out), {
    'sp1/nas': { type: 'filesystem', used: '237568', mountpoint: '/sp1/nas', origin: undefined, sharenfs: 'off' },
    'sp1/nas/vol0': {
      type: 'filesystem',
      used: '114688',
      mountpoint: '/export/uss1-nas-vol0',
      receive_resume_token: undefined,
      written: '0',
    },
  });
  assert.throws(() => parseDatasetProps('sp1/nas type filesystem\n'), /line 1/);
});

test('parseZpoolGet: zfs-fuse `zpool get all` (header, no -H) → legacy version 23, no features', () => {
  const out = [
    'NAME  PROPERTY       VALUE       SOURCE',
    'sp1   size           123M        -',
    'sp1   capacity       0%          -',
    'sp1   altroot        -           default',
    'sp1   health         ONLINE      -',
    'sp1   version        23          default',
    'sp1   delegation     on          default',
  ].join('\n');
  assert.deepEqual(parseZpoolGet(out), { sp1: { version: 23, features: [] } });
});

test('parseZpoolGet: OpenZFS -H output → feature flags, enabled and active features only', () => {
  const out = [
    'tank\tversion\t-\tdefault',
    'tank\tcomment\tpool with a comment\tlocal',
    'tank\tfeature@async_destroy\tenabled\tlocal',
    'tank\tfeature@extensible_dataset\tactive\tlocal',
    'tank\tfeature@encryption\tdisabled\tlocal',
    'old\tversion\t5000\tdefault',
  ].join('\n');
  assert.deepEqual(parseZpoolGet(out), {
    tank: { version: 'feature-flags', features: ['async_destroy', 'extensible_dataset'] },
    old: { version: 'feature-flags', features: [] },
  });
  assert.throws(() => parseZpoolGet('tank\tversion\tlatest\tdefault'), /version "latest"/);
  assert.throws(() => parseZpoolGet('tank\tfeature@bookmarks\tenabled\tlocal'), /no version row/);
});

test('banners: zpool upgrade -v and zfs upgrade first lines', () => {
  // Captured from zfs-fuse.
  assert.equal(
    parsePoolVersionBanner('This system is currently running ZFS pool version 23.\n\nThe following versions are supported:\n'),
    23,
  );
  assert.equal(
    parsePoolVersionBanner('This system supports ZFS pool feature flags.\n\nThe following features are supported:\n'),
    'feature-flags',
  );
  assert.equal(
    parseFilesystemVersionBanner('This system is currently running ZFS filesystem version 4.\n\nAll filesystems are formatted with the current version.\n'),
    4,
  );
  // `zfs upgrade -v` does not say the version in its first line.
  assert.throws(() => parseFilesystemVersionBanner('The following filesystem versions are supported:\n'), /unrecognised first line/);
  assert.throws(() => parsePoolVersionBanner(''), /unrecognised first line ""/);
});

test('classifyReceiveError: zfs-fuse messages, wrapped over lines as ZFS prints them', () => {
  assert.equal(
    classifyReceiveError(
      'cannot receive incremental stream: destination sp2/nas/vol0 has been modified\nsince most recent snapshot\nwarning: cannot send \'sp1/nas/vol0@b\': Broken pipe\n',
    ),
    'target-modified',
  );
  assert.equal(
    classifyReceiveError("cannot receive new filesystem stream: destination 'sp2/nas/vol0' exists\nmust specify -F to overwrite it\n"),
    'target-exists',
  );
  assert.equal(
    classifyReceiveError('cannot receive incremental stream: most recent snapshot of sp2/nas/vol0 does not\nmatch incremental source\n'),
    'base-mismatch',
  );
  // Captured in the lab: a full stream into a 96 MiB zfs-fuse pool.
  assert.equal(
    classifyReceiveError("cannot receive new filesystem stream: out of space\nwarning: cannot send 'sp1/t/full@esxi-zfs_20261130T153357Z': Broken pipe\n"),
    'out-of-space',
  );
  assert.equal(classifyReceiveError('ssh: connect to host 10.0.1.42 port 22: Connection refused\n'), undefined);
});

test('isMissingDataset: only for the named dataset', () => {
  const stderr = "cannot open 'sp2/nas/vol0': dataset does not exist\n";
  assert.equal(isMissingDataset(stderr, 'sp2/nas/vol0'), true);
  assert.equal(isMissingDataset(stderr, 'sp2/nas'), false);
  assert.equal(isMissingDataset('Permission denied (publickey).\n', 'sp2/nas/vol0'), false);
});

test('zfs get lines: only the line-ending CR is dropped, tabs inside a value are kept, blank lines are skipped', () => {
  // User properties (module:property) may hold any text but a newline.
  assert.deepEqual(parseDatasetProps('p/d\torg:note\ta\rb\r\n  \np/d\torg:cols\ta\tb\n'), {
    'p/d': { 'org:note': 'a\rb', 'org:cols': 'a\tb' },
  });
  const snapshot = 'p/d@a\tguid\t1\n \t \np/d@a\tcreatetxg\t2\np/d@a\tcreation\t3\n';
  assert.equal(parseSnapshotProps(snapshot).length, 1);
});

test('zfs get lines: an empty name or property is malformed; the same row twice is not a contradiction', () => {
  assert.throws(() => parseDatasetProps('\tused\t5\n'), /line 1 is not "name<TAB>property<TAB>value"/);
  assert.throws(() => parseDatasetProps('p/d\tused\t5\np/d\t\t5\n'), /line 2 is not "name<TAB>property<TAB>value"/);
  const twice = 'p/d@a\tguid\t1\np/d@a\tcreatetxg\t2\np/d@a\tguid\t1\np/d@a\tcreation\t3\n';
  assert.deepEqual(parseSnapshotProps(twice).map((s) => s.guid), ['1']);
});

test('parseSnapshotProps: counts are plain decimal safe integers; each error names the property', () => {
  const withCreation = (value: string) => `p/d@a\tguid\t1\np/d@a\tcreatetxg\t2\np/d@a\tcreation\t${value}\n`;
  for (const bad of ['-1', '1e3', '1.5', '0x10', '99999999999999999999']) {
    assert.throws(
      () => parseSnapshotProps(withCreation(bad)),
      { message: `p/d@a: creation ${JSON.stringify(bad)} is not a whole number (was zfs get run with -p?)` },
      bad,
    );
  }
  assert.equal(parseSnapshotProps(withCreation('9007199254740991'))[0]?.creation, 9007199254740991);
  assert.throws(() => parseSnapshotProps('p/d@a\tguid\t1\np/d@a\tcreatetxg\t2\n'), { message: 'p/d@a: creation is missing' });
  assert.throws(() => parseSnapshotProps('p/d@a\tcreatetxg\t2\np/d@a\tcreation\t3\n'), { message: 'p/d@a: guid is missing' });
  assert.throws(
    () => parseSnapshotProps(`${withCreation('3')}p/d@a\tuserrefs\tx\n`),
    { message: 'p/d@a: userrefs "x" is not a whole number (was zfs get run with -p?)' },
  );
});

test('parseSnapshotProps: a snapshot with an empty dataset or name is refused', () => {
  for (const bad of ['@a', 'p/d@']) {
    const out = `${bad}\tguid\t1\n${bad}\tcreatetxg\t2\n${bad}\tcreation\t3\n`;
    assert.throws(() => parseSnapshotProps(out), { message: `zfs get output: bad snapshot name ${JSON.stringify(bad)}` }, bad);
  }
});

test('parseZpoolGet: short lines, versions that are not whole numbers, and non-feature rows', () => {
  assert.throws(() => parseZpoolGet('sp1 size 123M -\nsp1   version\n'), { message: 'zpool get output line 2 is not "name property value [source]": "sp1   version"' });
  for (const bad of ['v23', '23a', '0', '023', '2.3']) {
    assert.throws(() => parseZpoolGet(`sp1 version ${bad} default`), /version ".*" is not a number or -/, bad);
  }
  assert.deepEqual(parseZpoolGet('sp1 version 5 default'), { sp1: { version: 5, features: [] } });
  // Indented, blank-padded output still splits into columns.
  assert.deepEqual(parseZpoolGet('  sp1   version   28   default  \n\n'), { sp1: { version: 28, features: [] } });
  // Only feature@ rows are features, whatever another property's value says.
  assert.deepEqual(parseZpoolGet('tank\tversion\t-\tdefault\ntank\tcomment\tenabled\tlocal\ntank\tfeature@lz4_compress\tactive\tlocal'), {
    tank: { version: 'feature-flags', features: ['lz4_compress'] },
  });
});

test('banners: multi-digit versions, and the unrecognised line quoted trimmed', () => {
  assert.equal(parseFilesystemVersionBanner('This system is currently running ZFS filesystem version 15.\n'), 15);
  assert.equal(parsePoolVersionBanner('This system is currently running ZFS pool version 5.\n'), 5);
  assert.throws(() => parsePoolVersionBanner('\n   some other tool  \n'), { message: 'zpool upgrade -v: unrecognised first line "some other tool"' });
  assert.throws(() => parseFilesystemVersionBanner('  zfs: not found\n'), { message: 'zfs upgrade: unrecognised first line "zfs: not found"' });
});

test('classifyReceiveError: the destination quoted or not, wrapped with CRLF', () => {
  assert.equal(classifyReceiveError('cannot receive new filesystem stream: destination sp2/nas/vol0 exists\nmust specify -F to overwrite it\n'), 'target-exists');
  assert.equal(classifyReceiveError("cannot receive: destination 'sp2/nas/vol0' exists\r\nmust specify -F to overwrite it\r\n"), 'target-exists');
  assert.equal(classifyReceiveError('cannot receive incremental stream: destination sp2/nas/vol0 has been modified\r\nsince most recent snapshot\r\n'), 'target-modified');
});
