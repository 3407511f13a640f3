/** The pure parts of the worker's telemetry: settings, label sets, JSON log lines, and the test's exposition parser. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HISTOGRAM_BUCKETS, Metric, replicationLabels, stepLabels } from '../../core/metrics';
import { DEFAULT_METRICS_ADDRESS, jsonLogLine, logFormat, metricsSetting } from '../../workers/observability';
import { parseExposition } from '../helpers/prometheus';
import type { StorageHostRef } from '../../core/hosts';

const host = (name: string) => ({ name }) as StorageHostRef;

describe('metricsSetting', () => {
  test('default, environment, option (the option wins), off', () => {
    assert.deepEqual(metricsSetting(undefined, undefined), { address: DEFAULT_METRICS_ADDRESS, explicit: false });
    assert.deepEqual(metricsSetting(undefined, '  '), { address: DEFAULT_METRICS_ADDRESS, explicit: false });
    assert.deepEqual(metricsSetting(undefined, '0.0.0.0:9100'), { address: '0.0.0.0:9100', explicit: true });
    assert.deepEqual(metricsSetting('127.0.0.1:9200', '0.0.0.0:9100'), { address: '127.0.0.1:9200', explicit: true });
    assert.deepEqual(metricsSetting('[::1]:9464', undefined), { address: '[::1]:9464', explicit: true });
    assert.deepEqual(metricsSetting('localhost:9464', undefined), { address: '127.0.0.1:9464', explicit: true });
    assert.deepEqual(metricsSetting(undefined, 'OFF'), { address: undefined, explicit: true });
    assert.deepEqual(metricsSetting('off', '0.0.0.0:9100'), { address: undefined, explicit: true });
  });

  test('anything else is refused with the expected form', () => {
    for (const bad of ['9464', ':9464', 'metrics.example:9464', '127.0.0.1:99999', '127.0.0.1:94a', 'http://127.0.0.1:9464', '127.0.0.1:9464/metrics']) {
      assert.throws(() => metricsSetting(bad, undefined), /expected IP:PORT .* or off/, bad);
    }
  });
});

test('logFormat: text by default, json on request, nothing else', () => {
  assert.equal(logFormat(undefined), 'text');
  assert.equal(logFormat(''), 'text');
  assert.equal(logFormat('JSON'), 'json');
  assert.equal(logFormat('text'), 'text');
  assert.throws(() => logFormat('yaml'), /ESXI_ZFS_LOG_FORMAT=yaml: expected json or text/);
});

describe('jsonLogLine', () => {
  test('one line: ISO time in ms, level, message, then the attributes', () => {
    const line = jsonLogLine({ level: 'INFO', message: 'stream received', timestampNanos: 1_796_293_903_123_456_789n, meta: { workflowId: 'replicate:a:b', bytes: 42 } });
    assert.ok(line.endsWith('}\n') && !line.slice(0, -1).includes('\n'));
    assert.deepEqual(JSON.parse(line), { time: '2026-12-03T10:31:43.123Z', level: 'INFO', message: 'stream received', workflowId: 'replicate:a:b', bytes: 42 });
  });

  test('errors keep their type, message, stack and cause; bigints become strings; newlines stay escaped', () => {
    const error = new TypeError('bad\nthing', { cause: new Error('root') });
    const parsed = JSON.parse(jsonLogLine({ level: 'WARN', message: 'Activity failed', timestampNanos: 0n, meta: { error, size: 2n ** 70n } }));
    assert.equal(parsed.error.type, 'TypeError');
    assert.equal(parsed.error.message, 'bad\nthing');
    assert.match(parsed.error.stack, /TypeError: bad/);
    assert.equal(parsed.error.cause.message, 'root');
    assert.equal(parsed.size, '1180591620717411303424');
  });

  test('no attributes: only time, level and message', () => {
    assert.deepEqual(Object.keys(JSON.parse(jsonLogLine({ level: 'ERROR', message: 'x', timestampNanos: 0n }))), ['time', 'level', 'message']);
  });
});

describe('labels', () => {
  test('a replication: its source dataset, source host and target host (no ids)', () => {
    const job = { source: { host: host('san-01'), dataset: 'tank/vm' }, target: { host: host('san-02'), dataset: 'backup/vm' } };
    assert.deepEqual(replicationLabels(job), { dataset: 'tank/vm', sourceHost: 'san-01', targetHost: 'san-02' });
  });

  test('a step: its workflow type and outcome', () => {
    assert.deepEqual(stepLabels('provisionHost', 'failed'), { workflowType: 'provisionHost', outcome: 'failed' });
    assert.deepEqual(stepLabels(undefined, 'completed'), { workflowType: 'none', outcome: 'completed' });
  });

  test('every histogram has increasing buckets in seconds', () => {
    for (const name of [Metric.stepDuration, Metric.replicationDuration]) {
      const buckets = HISTOGRAM_BUCKETS[name]!;
      assert.ok(buckets.every((b, i) => i === 0 || b > buckets[i - 1]!), name);
    }
    assert.equal(HISTOGRAM_BUCKETS[Metric.replicationDuration]!.at(-1), 86_400, 'a daily schedule\'s whole period');
  });
});

describe('parseExposition (the lab test\'s reader of /metrics)', () => {
  test('samples with labels, escapes, histograms, +Inf and timestamps; comments skipped', () => {
    const text = [
      '# HELP esxi_zfs_replication_bytes Bytes',
      '# TYPE esxi_zfs_replication_bytes counter',
      'esxi_zfs_replication_bytes{dataset="tank/a",targetHost="san-02"} 6317628',
      'odd{path="C:\\\\DIR",msg="say \\"hi\\"\\n",} 1.5e3 1395066363000',
      'h_bucket{activityType="sendSnapshot",le="+Inf"} 2',
      'h_sum{activityType="sendSnapshot"} 0.75',
      'weird +Inf',
      '',
    ].join('\n');
    assert.deepEqual(parseExposition(text), [
      { name: 'esxi_zfs_replication_bytes', labels: { dataset: 'tank/a', targetHost: 'san-02' }, value: 6317628 },
      { name: 'odd', labels: { path: 'C:\\DIR', msg: 'say "hi"\n' }, value: 1500 },
      { name: 'h_bucket', labels: { activityType: 'sendSnapshot', le: '+Inf' }, value: 2 },
      { name: 'h_sum', labels: { activityType: 'sendSnapshot' }, value: 0.75 },
      { name: 'weird', labels: {}, value: Infinity },
    ]);
  });

  test('a line it cannot read fails the test, naming it', () => {
    assert.throws(() => parseExposition('m{a="b} 1'), /bad labels in: m\{a="b\} 1|not a sample line/);
    assert.throws(() => parseExposition('not a metric line at all'), /not a sample line: not a metric line at all/);
  });
});
