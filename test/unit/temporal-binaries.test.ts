/**
 * Resolution order of the Temporal binaries. The executables here are fake shell scripts in
 * temporary folders: this tests the resolver, not Temporal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  REPO_ROOT,
  findOnPath,
  resolveTemporalCli,
  resolveTestServer,
} from '../../workers/temporal-binaries';

let root: string;
let envDir: string; // binaries named by env vars
let pathDir: string; // binaries on PATH
let repo: string; // a fake repo root with .venv/bin
let emptyRepo: string; // a fake repo root without .venv
let emptyPathDir: string;

function fakeExe(dir: string, name: string, mode = 0o755): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\necho fake\n');
  chmodSync(file, mode);
  return file;
}

before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'temporal-binaries-'));
  envDir = path.join(root, 'env');
  pathDir = path.join(root, 'path');
  repo = path.join(root, 'repo');
  emptyRepo = path.join(root, 'empty-repo');
  emptyPathDir = path.join(root, 'empty-path');
  mkdirSync(emptyRepo);
  mkdirSync(emptyPathDir);
  fakeExe(envDir, 'my-temporal');
  fakeExe(envDir, 'my-temporal-bin');
  fakeExe(envDir, 'my-test-server');
  fakeExe(pathDir, 'temporal');
  fakeExe(pathDir, 'temporal-test-server');
  fakeExe(path.join(repo, '.venv', 'bin'), 'temporal');
  fakeExe(path.join(repo, '.venv', 'bin'), 'temporal-test-server');
  // Present but not executable: must be ignored on PATH.
  fakeExe(path.join(root, 'noexec'), 'temporal', 0o644);
  fakeExe(path.join(root, 'noexec'), 'temporal-test-server', 0o644);
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('resolveTemporalCli', () => {
  test('TEMPORAL_CLI_PATH wins over TEMPORAL_BIN, PATH and .venv', () => {
    const env = {
      TEMPORAL_CLI_PATH: path.join(envDir, 'my-temporal'),
      TEMPORAL_BIN: path.join(envDir, 'my-temporal-bin'),
      PATH: pathDir,
    };
    assert.equal(resolveTemporalCli({ env, repoRoot: repo }), path.join(envDir, 'my-temporal'));
  });

  test('TEMPORAL_BIN is the alternative env var', () => {
    const env = { TEMPORAL_BIN: path.join(envDir, 'my-temporal-bin'), PATH: pathDir };
    assert.equal(resolveTemporalCli({ env, repoRoot: repo }), path.join(envDir, 'my-temporal-bin'));
  });

  test('an empty env var is ignored', () => {
    const env = { TEMPORAL_CLI_PATH: '', TEMPORAL_BIN: '  ', PATH: pathDir };
    assert.equal(resolveTemporalCli({ env, repoRoot: repo }), path.join(pathDir, 'temporal'));
  });

  test('an env var naming a missing file is an error, not a silent fallback', () => {
    const env = { TEMPORAL_CLI_PATH: path.join(root, 'nope', 'temporal'), PATH: pathDir };
    assert.throws(() => resolveTemporalCli({ env, repoRoot: repo }), /TEMPORAL_CLI_PATH=.*not an executable file/);
  });

  test('then `temporal` on PATH, first match in PATH order, skipping non-executables', () => {
    const env = { PATH: [emptyPathDir, path.join(root, 'noexec'), pathDir].join(path.delimiter) };
    assert.equal(resolveTemporalCli({ env, repoRoot: repo }), path.join(pathDir, 'temporal'));
  });

  test('then <repo>/.venv/bin/temporal', () => {
    const env = { PATH: emptyPathDir };
    assert.equal(resolveTemporalCli({ env, repoRoot: repo }), path.join(repo, '.venv', 'bin', 'temporal'));
  });

  test('none found: a one-line error saying how to get it', () => {
    const env = { PATH: [emptyPathDir, path.join(root, 'noexec')].join(path.delimiter) };
    assert.throws(
      () => resolveTemporalCli({ env, repoRoot: emptyRepo }),
      (err: Error) => {
        assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
        assert.match(err.message, /npm run setup/);
        assert.match(err.message, /\.venv/);
        assert.match(err.message, /TEMPORAL_CLI_PATH/);
        return true;
      },
    );
  });

  test('defaults read process.env and this repo', () => {
    const saved = { ...process.env };
    try {
      process.env.TEMPORAL_CLI_PATH = path.join(envDir, 'my-temporal');
      assert.equal(resolveTemporalCli(), path.join(envDir, 'my-temporal'));
      delete process.env.TEMPORAL_CLI_PATH;
      delete process.env.TEMPORAL_BIN;
      process.env.PATH = pathDir;
      assert.equal(resolveTemporalCli(), path.join(pathDir, 'temporal'));
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
    assert.equal(REPO_ROOT, path.resolve(__dirname, '..', '..'));
  });
});

describe('resolveTestServer', () => {
  test('TEMPORAL_TEST_SERVER_PATH first', () => {
    const env = { TEMPORAL_TEST_SERVER_PATH: path.join(envDir, 'my-test-server'), PATH: pathDir };
    assert.equal(resolveTestServer({ env, repoRoot: repo }), path.join(envDir, 'my-test-server'));
  });

  test('an env var naming a missing file is an error', () => {
    const env = { TEMPORAL_TEST_SERVER_PATH: path.join(root, 'nope'), PATH: pathDir };
    assert.throws(() => resolveTestServer({ env, repoRoot: repo }), /TEMPORAL_TEST_SERVER_PATH/);
  });

  test('then temporal-test-server on PATH', () => {
    const env = { PATH: [path.join(root, 'noexec'), pathDir].join(path.delimiter) };
    assert.equal(resolveTestServer({ env, repoRoot: repo }), path.join(pathDir, 'temporal-test-server'));
  });

  test('then <repo>/.venv/bin/temporal-test-server', () => {
    const env = { PATH: emptyPathDir };
    assert.equal(
      resolveTestServer({ env, repoRoot: repo }),
      path.join(repo, '.venv', 'bin', 'temporal-test-server'),
    );
  });

  test('none found: undefined, so the SDK downloads it', () => {
    assert.equal(resolveTestServer({ env: { PATH: emptyPathDir }, repoRoot: emptyRepo }), undefined);
    assert.equal(resolveTestServer({ env: {}, repoRoot: emptyRepo }), undefined);
  });
});

describe('findOnPath', () => {
  test('ignores directories named like the binary and empty PATH entries', () => {
    const dirs = path.join(root, 'dirs');
    mkdirSync(path.join(dirs, 'temporal'), { recursive: true });
    const env = { PATH: ['', dirs, pathDir].join(path.delimiter) };
    assert.equal(findOnPath('temporal', env), path.join(pathDir, 'temporal'));
    assert.equal(findOnPath('temporal', { PATH: dirs }), undefined);
  });
});
