import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CATALOG } from '../reliability/catalog';
import { readResults, renderReport } from '../reliability/report';
import { REPORT_FILE, resultFile, type CaseResult } from '../reliability/results';

const result = (over: Partial<CaseResult>): CaseResult => ({
  id: CATALOG[0]!.id, test: 'a test', result: 'passed', happened: 'retried', verified: ['data equal'],
  recoverySeconds: 3.2, seconds: 10, ranAt: '2026-12-03T17:00:00.000Z', ...over,
});

test('docs/reliability.md is what the generator makes of the recorded results (never edited by hand)', () => {
  assert.equal(readFileSync(REPORT_FILE, 'utf8'), renderReport(readResults()), 'run `npm run report:reliability` after the suite');
});

test('the report: one row per catalog case, its result, what was verified and the recovery time; cases without a result are "not run"', () => {
  const report = renderReport([result({}), result({ id: CATALOG[1]!.id, result: 'failed', error: 'boom | here', recoverySeconds: null })]);
  const rows = report.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Fault'));
  assert.equal(rows.length, CATALOG.length);
  assert.match(rows[0]!, /\| retried \| data equal \| 3\.2 s \| passed \(2026-12-03\) \| a test \|$/);
  assert.match(rows[1]!, /\*\*failed\*\* \(2026-12-03\): boom \\\| here/);
  const unable = CATALOG.filter((c) => c.cannotRunHere).length;
  assert.match(report, new RegExp(`passed 1, failed 1, not run ${CATALOG.length - 2 - unable}, cannot run here ${unable}\\.`));
  assert.equal(rows.filter((r) => r.includes('**not run**')).length, CATALOG.length - 2 - unable);
  assert.equal(rows.filter((r) => r.includes('**cannot run here**')).length, unable);
});

test('a result under an id the catalog does not have is refused', () => {
  assert.throws(() => renderReport([result({ id: 'made-up/case' })]), /made-up\/case/);
});

test('catalog ids are unique and make distinct file names', () => {
  const files = CATALOG.map((c) => resultFile(c.id));
  assert.equal(new Set(files).size, CATALOG.length);
});
