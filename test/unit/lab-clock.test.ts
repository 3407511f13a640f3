import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clockOffset, daemonEnv, faketimeLibrary, labSetClock, sessionClockOptions } from '../../lab/clock';

test('a host without a clock offset runs its daemons on the machine\'s clock: only their own preload', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-clock-'));
  try {
    assert.equal(clockOffset({ root }), undefined);
    assert.equal(clockOffset({}), undefined, 'a host being built has no state dir yet');
    assert.deepEqual(daemonEnv({ root }, ['/proc/self/fd/3']), ['LD_PRELOAD=/proc/self/fd/3']);
    assert.deepEqual(daemonEnv({ root }), []);
    assert.deepEqual(sessionClockOptions({ root }), []);
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test('a host 5 h ahead: libfaketime after the daemon\'s own preload, the wall clock only, and the same for its SSH sessions', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-clock-'));
  try {
    fs.writeFileSync(path.join(root, 'clock-offset'), '+5h\n');
    const lib = faketimeLibrary();
    assert.match(lib, /\/faketime\/libfaketimeMT\.so\.1$/);
    assert.deepEqual(daemonEnv({ root }, ['/proc/self/fd/3']), [
      `LD_PRELOAD=/proc/self/fd/3 ${lib}`, 'FAKETIME=+5h', 'FAKETIME_DONT_FAKE_MONOTONIC=1', 'FAKETIME_DISABLE_SHM=1',
    ]);
    assert.deepEqual(sessionClockOptions({ root }), ['-o', `SetEnv=LD_PRELOAD=${lib} FAKETIME=+5h FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_DISABLE_SHM=1`]);
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test('labSetClock refuses an offset libfaketime would read otherwise', async () => {
  for (const offset of ['5h', '+5', '+5 h', '+5h; rm -rf /', '', '+1y']) {
    await assert.rejects(labSetClock({ dir: '/nonexistent', host: 'h', offset }), /is not like \+5h/, offset);
  }
});
