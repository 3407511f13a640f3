/** parsePoolStatus on every vdev kind and every malformed config it refuses; describeLayout and layoutDevices. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeLayout, layoutDevices, parsePoolStatus } from '../../core/guest/storage/pool-layout';

const config = (lines: string) => `  pool: tank\r\n state: ONLINE\r\nconfig:\r\n\r\n\tNAME STATE READ WRITE CKSUM\r\n\ttank ONLINE 0 0 0\r\n${lines}`;

test('every group kind, old names without -N, dRAID, and CRLF output', () => {
  const [tank] = parsePoolStatus(config(`\t  raidz1-0 ONLINE\r
\t    a ONLINE\r
\t  raidz2-1 ONLINE\r
\t    b ONLINE\r
\t  raidz3-2 ONLINE\r
\t    c ONLINE\r
\t  raidz ONLINE\r
\t    d ONLINE\r
\t  mirror ONLINE\r
\t    e ONLINE\r
\t  draid2:4d:9c:1s-0 ONLINE\r
\t    f ONLINE\r
\t  mirror-10 ONLINE\r
\t    g ONLINE\r
\t  raidzx ONLINE\r
\t  spare-3 DEGRADED\r
\t    k ONLINE\r
\t    l ONLINE\r
\tdedup\r
\t  h ONLINE\r
\tcache\r
\t  i ONLINE\r
\r
\tj ONLINE\r
`));
  assert.deepEqual(tank, {
    name: 'tank',
    data: [
      { kind: 'raidz', devices: ['a'] }, { kind: 'raidz2', devices: ['b'] }, { kind: 'raidz3', devices: ['c'] },
      { kind: 'raidz', devices: ['d'] }, { kind: 'mirror', devices: ['e'] }, { kind: 'draid', devices: ['f'] },
      { kind: 'mirror', devices: ['g'] }, { kind: 'disk', devices: ['raidzx'] }, { kind: 'disk', devices: ['k', 'l'] },
    ],
    log: [],
    cache: ['i'],
    spares: [],
    special: [{ kind: 'disk', devices: ['h'] }],
  });
  assert.deepEqual(layoutDevices(tank!), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'raidzx', 'k', 'l', 'h', 'i']);
});

test('the config ends at errors:, and a second pool follows', () => {
  const pools = parsePoolStatus(`${config('\t  a ONLINE\nerrors: No known data errors\n\t  b ONLINE\n')}  pool: sp1\nconfig:\n  NAME STATE\n  sp1 ONLINE\n    c ONLINE\n`);
  assert.deepEqual(pools.map((p) => [p.name, layoutDevices(p)]), [['tank', ['a']], ['sp1', ['c']]]);
  assert.deepEqual(layoutDevices(parsePoolStatus(config('\t  a ONLINE\n   \n\t  b ONLINE\n'))[0]!), ['a'], 'a line of blanks ends it too');
});

test('malformed configs: each refusal names the pool and the line', () => {
  assert.throws(() => parsePoolStatus('  pool: x\n state: ONLINE\n'), { message: 'zpool status: pool x has no config header (NAME STATE ...)' });
  assert.throws(() => parsePoolStatus('  pool: x\nconfig:\n\tNAME STATE\n\tx ONLINE\n\tweird\n'), { message: 'zpool status: pool x: unknown vdev class "weird"' });
  assert.throws(() => parsePoolStatus('  pool: x\nconfig:\n\tNAME STATE\n\tweird\n'), { message: 'zpool status: pool x: unknown vdev class "weird"' });
  assert.throws(() => parsePoolStatus('  pool: x\nconfig:\n\tNAME STATE\n\t  a ONLINE\n'), { message: "zpool status: pool x: a device before the pool's own line" });
  assert.throws(() => parsePoolStatus('  pool: x\nconfig:\n\tNAME STATE\n\tx ONLINE\n  a ONLINE\n'), { message: 'zpool status: pool x: line not under the config header: "  a ONLINE"' });
  assert.throws(() => parsePoolStatus('  pool: x\nconfig:\n\tNAME STATE\n\tx ONLINE\n\tx ONLINE\n'), { message: 'zpool status: pool x: unknown vdev class "x"' });
});

test('a layout in one line, every class; an empty one', () => {
  const layout = {
    name: 'tank',
    data: [{ kind: 'mirror' as const, devices: ['a', 'b'] }, { kind: 'disk' as const, devices: ['c'] }],
    log: [{ kind: 'disk' as const, devices: ['d'] }, { kind: 'mirror' as const, devices: ['e', 'f'] }],
    cache: ['g', 'h'],
    spares: ['i', 'j'],
    special: [{ kind: 'mirror' as const, devices: ['k', 'l'] }],
  };
  assert.equal(describeLayout(layout), 'tank: mirror(a, b), c; log d, mirror(e, f); cache g, h; spare i, j; special mirror(k, l)');
  assert.equal(describeLayout({ name: 'x', data: [], log: [], cache: [], spares: [], special: [] }), 'x: no data vdev');
  assert.equal(describeLayout({ name: 'x', data: [{ kind: 'disk', devices: ['a', 'b'] }], log: [], cache: [], spares: [], special: [] }), 'x: disk(a, b)');
  assert.equal(
    describeLayout({ name: 'x', data: [{ kind: 'mirror', devices: ['a'] }], log: [], cache: [], spares: [], special: [{ kind: 'disk', devices: ['s'] }, { kind: 'disk', devices: ['t'] }] }),
    'x: mirror(a); special s, t',
  );
});
