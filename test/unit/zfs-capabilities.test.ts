import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAPABILITY_RULES, capabilities, commonCapabilities } from '../../core/zfs/capabilities';
import { datasetPropsArgv, poolPropsArgv, snapshotPropsArgv } from '../../core/zfs/queries';

const NONE = {
  holds: false,
  resumeTokens: false,
  bookmarks: false,
  compressedSend: false,
  largeBlocks: false,
  embeddedData: false,
  rawSend: false,
  writtenProperty: false,
};

test('capabilities: zfs-fuse / snv_134 (pool 22-23) have holds and nothing newer', () => {
  assert.deepEqual(capabilities(23, []), { ...NONE, holds: true });
  assert.deepEqual(capabilities(22, []), { ...NONE, holds: true });
  assert.deepEqual(capabilities(18, []), { ...NONE, holds: true });
  assert.deepEqual(capabilities(17, []), NONE);
  // Feature names mean nothing on a legacy pool.
  assert.deepEqual(capabilities(28, ['bookmarks', 'extensible_dataset']), { ...NONE, holds: true });
});

test('capabilities: feature-flag pools get each capability from its feature', () => {
  assert.deepEqual(capabilities('feature-flags', []), { ...NONE, holds: true, writtenProperty: true });
  assert.deepEqual(
    capabilities('feature-flags', ['extensible_dataset', 'bookmarks', 'lz4_compress', 'large_blocks', 'embedded_data', 'encryption']),
    {
      holds: true,
      resumeTokens: true,
      bookmarks: true,
      compressedSend: true,
      largeBlocks: true,
      embeddedData: true,
      rawSend: true,
      writtenProperty: true,
    },
  );
  assert.equal(capabilities('feature-flags', ['bookmarks']).resumeTokens, false);
});

test('commonCapabilities: a send may only use what both pools have', () => {
  const modern = capabilities('feature-flags', ['extensible_dataset', 'lz4_compress']);
  const lab = capabilities(23, []);
  assert.deepEqual(commonCapabilities(modern, lab), { ...NONE, holds: true });
  assert.deepEqual(commonCapabilities(modern, modern), modern);
});

test('every capability rule names its source', () => {
  assert.equal(CAPABILITY_RULES.length, Object.keys(NONE).length);
  for (const rule of CAPABILITY_RULES) assert.ok(rule.source.length > 20, rule.capability);
});

test('queries: snapshot listing works on zfs-fuse (no -t, no zfs list -p), one level deep', () => {
  assert.deepEqual(snapshotPropsArgv('sp1/nas/vol0'), [
    'zfs', 'get', '-H', '-p', '-d', '1', '-o', 'name,property,value', 'guid,createtxg,creation,userrefs', 'sp1/nas/vol0',
  ]);
  assert.deepEqual(poolPropsArgv('sp1'), ['zpool', 'get', 'all', 'sp1']);
});

test('queries: dataset properties ask for written/receive_resume_token only where they exist', () => {
  const props = (argv: string[]) => argv[argv.length - 2]?.split(',');
  assert.deepEqual(props(datasetPropsArgv('sp2/nas/vol0', capabilities(23, []))), ['type', 'used', 'mountpoint', 'readonly']);
  assert.deepEqual(
    props(datasetPropsArgv('sp2/nas/vol0', capabilities('feature-flags', ['extensible_dataset']))),
    ['type', 'used', 'mountpoint', 'readonly', 'written', 'receive_resume_token'],
  );
  assert.deepEqual(datasetPropsArgv('sp2/nas/vol0', capabilities(23, [])), [
    'zfs', 'get', '-H', '-p', '-o', 'name,property,value', 'type,used,mountpoint,readonly', 'sp2/nas/vol0',
  ]);
});
