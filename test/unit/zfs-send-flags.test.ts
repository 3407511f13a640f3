import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capabilities } from '../../core/zfs/capabilities';
import { sendFlags, type SendFlagsInput } from '../../core/zfs/send-flags';

// Computed in each test, not at load time: a broken capabilities() then fails tests instead of
// the whole file (which mutation testing would count as an error, not a kill).
const v23 = () => capabilities(23, []);
const encrypted = () => capabilities('feature-flags', ['extensible_dataset', 'lz4_compress', 'large_blocks', 'embedded_data', 'encryption']);

const flags = (input: Partial<SendFlagsInput> & Pick<SendFlagsInput, 'options'>) =>
  sendFlags({ recursive: false, common: v23(), sourcePoolVersion: 23, ...input });

test('dedup (-D): from pool version 21 (snv_128) on, not before, and never on feature-flag pools', () => {
  assert.deepEqual(flags({ options: ['dedup'], sourcePoolVersion: 21 }), { flags: ['-D'], warnings: [] });
  assert.deepEqual(flags({ options: ['dedup'], sourcePoolVersion: 28 }).flags, ['-D']);
  const warning = 'dedup: this ZFS does not offer deduplicated send streams (-D); sent without it';
  assert.deepEqual(flags({ options: ['dedup'], sourcePoolVersion: 20 }), { flags: [], warnings: [warning] });
  assert.deepEqual(flags({ options: ['dedup'], sourcePoolVersion: 1 }), { flags: [], warnings: [warning] });
  assert.deepEqual(flags({ options: ['dedup'], sourcePoolVersion: 'feature-flags', common: encrypted() }), { flags: [], warnings: [warning] });
  assert.deepEqual(flags({ options: [], sourcePoolVersion: 23 }), { flags: [], warnings: [] }, 'no -D unless asked for');
});

test('raw (-w) needs encryption on both pools; each missing capability is one warning naming its flag', () => {
  assert.deepEqual(flags({ options: ['raw'], common: encrypted(), sourcePoolVersion: 'feature-flags' }), { flags: ['-w'], warnings: [] });
  assert.deepEqual(flags({ options: ['raw'] }), {
    flags: [],
    warnings: ['raw: not supported by both pools (-w); sent without it'],
  });
  assert.deepEqual(flags({ options: ['compressed', 'largeBlocks', 'embedded', 'raw'] }).warnings, [
    'compressed: not supported by both pools (-c); sent without it',
    'largeBlocks: not supported by both pools (-L); sent without it',
    'embedded: not supported by both pools (-e); sent without it',
    'raw: not supported by both pools (-w); sent without it',
  ]);
});

test('flag order is fixed (-R/-p, -D, -c, -L, -e, -w) whatever the order of the options', () => {
  const all = flags({ options: ['raw', 'embedded', 'largeBlocks', 'compressed', 'dedup', 'properties'], common: encrypted(), sourcePoolVersion: 23 });
  assert.deepEqual(all, { flags: ['-p', '-D', '-c', '-L', '-e', '-w'], warnings: [] });
  assert.deepEqual(flags({ options: ['properties', 'raw'], recursive: true, common: encrypted() }).flags, ['-R', '-w']);
  assert.deepEqual(flags({ options: [], recursive: true }).flags, ['-R'], '-R whether or not properties are asked for');
});
