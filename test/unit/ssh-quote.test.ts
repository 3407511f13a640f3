import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { quote, shellCommand, sh, ShellScript } from '../../core/quote';

const run = promisify(execFile);

/** Arguments that would break or change meaning if quoting were wrong. */
export const NASTY: string[] = [
  'plain',
  'with space',
  '  leading and trailing  ',
  "it's",
  "''",
  'say "hi"',
  '$(touch /tmp/esxi-zfs-pwned)',
  '`id`',
  '${HOME}',
  '$HOME',
  '*',
  '/etc/*',
  '?',
  '[a-z]',
  'line1\nline2',
  '\n',
  'tab\there',
  '',
  '-rf',
  '--',
  '-n',
  '~',
  '~root',
  'a;b',
  'a&&b',
  'a|b',
  'a>b',
  '<',
  '#comment',
  '!',
  '\\',
  'back\\slash',
  'uni ☃ ü',
  'sp1/nas/vol0@auto-2024-01-01',
  'x=y',
];

test('quote leaves safe words alone', () => {
  for (const w of ['abc', 'sp1/nas/vol0@snap', 'a-b_c.d:e,f+g%h=i', '-rf', '192.0.2.41', 'user@host']) {
    assert.equal(quote(w), w);
  }
});

test('quote wraps everything else in single quotes', () => {
  assert.equal(quote(''), "''");
  assert.equal(quote('with space'), "'with space'");
  assert.equal(quote("it's"), "'it'\\''s'");
  assert.equal(quote('say "hi"'), `'say "hi"'`);
  assert.equal(quote('$(id)'), "'$(id)'");
  assert.equal(quote('`id`'), "'`id`'");
  assert.equal(quote('*'), "'*'");
  assert.equal(quote('a\nb'), "'a\nb'");
  assert.equal(quote('~'), "'~'");
});

test('shellCommand quotes each argument and refuses an empty argv', () => {
  assert.equal(shellCommand(['zfs', 'list', '-H', 'sp1/a b']), "zfs list -H 'sp1/a b'");
  assert.throws(() => shellCommand([]), /empty argv/);
});

const shells = ['/bin/sh', '/bin/bash', '/bin/dash'].filter((s) => existsSync(s));

for (const shell of shells) {
  test(`round trip through ${shell} -c 'printf "%s\\n" ARGS': output is exactly the arguments`, async () => {
    const args = NASTY.filter((a) => !a.includes('\n'));
    const { stdout } = await run(shell, ['-c', shellCommand(['printf', '%s\n', ...args])], { env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' } });
    assert.equal(stdout, args.map((a) => a + '\n').join(''));
  });

  test(`round trip through ${shell}: NUL-separated printf proves every argument boundary (newlines included)`, async () => {
    const { stdout } = await run(shell, ['-c', shellCommand(['printf', '%s\\0', ...NASTY])], { env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' }, encoding: 'buffer' });
    const got = stdout.toString('utf8').split('\0');
    assert.equal(got.pop(), '');
    assert.deepEqual(got, NASTY);
    assert.equal(existsSync('/tmp/esxi-zfs-pwned'), false);
  });
}

test('sh`` quotes interpolated strings and argv arrays, keeps literal text and nested scripts', async () => {
  const ds = "sp1/it's a $(trap)";
  const s = sh`printf '%s\\0' ${['a b', '*']} ${ds} | od -c >/dev/null && ${sh`printf '%s\\0' ${'x;y'}`}`;
  assert.ok(s instanceof ShellScript);
  assert.equal(s.text, `printf '%s\\0' 'a b' '*' 'sp1/it'\\''s a $(trap)' | od -c >/dev/null && printf '%s\\0' 'x;y'`);
  const { stdout } = await run('/bin/sh', ['-c', s.text]);
  assert.equal(stdout, 'x;y\0');
  const piped = sh`printf '%s\\0' ${NASTY} | cat`;
  const r = await run('/bin/sh', ['-c', piped.text], { encoding: 'buffer' });
  assert.deepEqual(r.stdout.toString('utf8').split('\0').slice(0, -1), NASTY);
});

test('sh`` refuses values that are not words', () => {
  assert.throws(() => sh`echo ${undefined}`, /#0 is undefined/);
  assert.throws(() => sh`echo ${'a'} ${null}`, /#1 is null/);
  assert.throws(() => sh`echo ${{}}`, /object/);
  assert.throws(() => (sh as unknown as (s: string[]) => ShellScript)(['rm -rf /']), /tagged template/);
  assert.equal(sh`zfs get -Hp guid ${42}`.text, 'zfs get -Hp guid 42');
  assert.equal(sh`echo ${[]}`.text, 'echo ');
});
