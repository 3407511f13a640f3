/**
 * Hostile or broken output (issue 13), at the parsers and readers themselves: tabs and line
 * breaks inside zfs property values and snapshot names, listings cut short, SOAP answers with
 * elements the schema does not expect. Never a misparse: the value read whole, or a clear error.
 * The same on real zfs-fuse over SSH: test/lab/fault-hostile-zfs.test.ts.
 *
 *   node --import tsx --test test/unit/hostile-output.test.ts
 */
import { test } from 'node:test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { parseDatasetFacts } from '../../core/guest/storage/datasets';
import { endMarked, ListingCutShortError, readEndMarked } from '../../core/listing-end';
import { parseDatasetProps, parseSnapshotProps } from '../../core/zfs/parse';
import { createDatasetActivities } from '../../activities/replication/datasets';
import { createFailoverStorageActivities } from '../../activities/failover/storage';
import { parseResponse, SoapProtocolError, type MethodCall } from '../../activities/vsphere/vim25/soap';
import { HttpTransport } from '../../activities/vsphere/transport';
import type { StorageHostRef } from '../../core/hosts';
import { recorded } from '../helpers/reliability';
import { RecordingTransport } from '../helpers/recording-transport';

const snapshotRows = (full: string, guid: string, txg: string) =>
  [`${full}\tguid\t${guid}`, `${full}\tcreatetxg\t${txg}`, `${full}\tcreation\t1795577870`, `${full}\tuserrefs\t0`];

// Recorded as hostile/property-values by the lab case on real zfs-fuse (test/lab/fault-hostile-zfs.test.ts).
test('property values with tabs and line breaks: read whole, or refused when a line looks like another row', async () => {
  const names = ['sp1/nas/vol0'];
  // `zfs get -H -o name,property,value,source` of a user property holding a tab and a line break.
  const multiLine = parseDatasetFacts('sp1/nas/vol0\tcom.example:note\tfirst\tline\nsecond line\tlocal\nsp1/nas/vol0\tsharenfs\toff\tdefault\n', names);
  assert.deepEqual(multiLine.get('sp1/nas/vol0')!.get('com.example:note'), { value: 'first\tline\nsecond line', source: 'local' });
  assert.deepEqual(multiLine.get('sp1/nas/vol0')!.get('sharenfs'), { value: 'off', source: 'default' });
  // a user property value with a tab and a line break reads as that one value, and the row after it as its own

  // A note crafted so that its second line is a row of its own: sharenfs for the same dataset.
  const forged = [
    'sp1/nas/vol0\tsharenfs\toff\tdefault',
    'sp1/nas/vol0\tcom.example:note\tx\tlocal',
    'sp1/nas/vol0\tsharenfs\trw=@0.0.0.0/0\tlocal',
    'q\tw\te\tlocal',
  ].join('\n');
  assert.throws(() => parseDatasetFacts(forged, names), /sp1\/nas\/vol0 sharenfs is listed twice .*refusing to guess/);
  assert.throws(() => parseDatasetFacts(forged), /sp1\/nas\/vol0 sharenfs is listed twice/);
  // a value whose lines forge another sharenfs row is refused (sharenfs listed twice), with or without the names asked for
  const spanning = parseDatasetFacts('sp1/nas/vol0\tmountpoint\t/a\nb\tlocal\nother/ds\tused\t1\tlocal\n', names);
  assert.deepEqual([...spanning.keys()], names);
  assert.deepEqual(spanning.get('sp1/nas/vol0')!.get('mountpoint'), { value: '/a\nb\tlocal\nother/ds\tused\t1', source: 'local' });
  // a value whose lines look like a row of a dataset not asked for stays part of the value: never a dataset of its own
  assert.throws(() => parseDatasetFacts('sp1/nas/vol0\tmountpoint\t/a\tb\n', names), /is not "name<TAB>property<TAB>value<TAB>source"/);
  // a row whose last field is not a source (local, default, inherited from ..., -) is an error: the value is never read short

  // The replication readers' zfs get (-o name,property,value): numbers and paths; a line break is an error.
  assert.throws(() => parseDatasetProps('sp1/nas/vol0\tmountpoint\t/a\nb\nsp1/nas/vol0\treadonly\toff\n'), /line 2 is not "name<TAB>property<TAB>value"/);
  assert.throws(() => parseDatasetProps('sp1/nas/vol0\tmountpoint\t/a\nsp1/nas/vol0\tmountpoint\t/b\n'), /mountpoint is both "\/a" and "\/b"/);
  // in the replication readers a value with a line break, or one forging a second value, fails the read
});

test('snapshot names: spaces are names; tabs and line breaks inside a listing are never two snapshots or another one', recorded('hostile/snapshot-names', async (r) => {
  const spaced = parseSnapshotProps([...snapshotRows('sp1/nas/vol0@before upgrade', '11', '5'), ...snapshotRows('sp1/nas/vol0@esxi-zfs_20261125T235900Z', '12', '6')].join('\n'), 'sp1/nas/vol0');
  assert.deepEqual(spaced.map((s) => s.name), ['before upgrade', 'esxi-zfs_20261125T235900Z']);
  r.verified('a snapshot named "before upgrade" (valid in ZFS) is one snapshot with that name');

  // A broken host prints a name holding a line break: `sp1/nas/vol0@a` then `b<TAB>guid...`.
  const broken = [...snapshotRows('sp1/nas/vol0@a\nb', '13', '7')].join('\n');
  assert.throws(() => parseSnapshotProps(broken, 'sp1/nas/vol0'), /line 1 is not "name<TAB>property<TAB>value"/);
  // A name holding a tab: `sp1/nas/vol0@a<TAB>b<TAB>guid<TAB>13` would be property "b".
  assert.throws(() => parseSnapshotProps(snapshotRows('sp1/nas/vol0@a\tb', '13', '7').join('\n'), 'sp1/nas/vol0'), /sp1\/nas\/vol0@a b is both "guid\\t13" and "createtxg\\t7"/);
  // A line break placed so each half looks like a row: the second half's name is not a ZFS name.
  assert.throws(() => parseSnapshotProps('sp1/nas/vol0@x\tguid\t1\nsp1/nas/vol0@x\x07\tguid\t2\n', 'sp1/nas/vol0'), /is not a ZFS name/);
  r.verified('names with a line break, a tab or a control character fail the listing with the line named; none reads as a snapshot');
  assert.throws(() => parseSnapshotProps([...snapshotRows('sp1/nas/vol0@a', '13', '7'), 'sp1/nas/vol0@a\tguid\t99'].join('\n')), /guid is both "13" and "99"/);
  r.verified('a second guid for one snapshot (a forged row) is an error, never a different snapshot');
  r.happened('Snapshot names with spaces are read as themselves; a listing with a tab, line break or control character in a name, or two values for one snapshot, fails with the line named.');
}));

test('a listing cut short (mid-line, without its last line, or an ssh that exits 0 with half of it): an error, never half a listing', recorded('hostile/listing-cut-short', async (r) => {
  const whole = [...snapshotRows('sp1/nas/vol0@s1', '11', '5'), ...snapshotRows('sp1/nas/vol0@s2', '12', '6')].join('\n') + '\n';
  const nonce = '0123456789abcdef';
  const script = endMarked(['zfs', 'get', '-H', 'guid', 'sp1/nas/vol 0'], nonce).text;
  assert.equal(script, `zfs get -H guid 'sp1/nas/vol 0'; s=$?; printf '\\n%s %s\\n' esxi-zfs-listing-end:${nonce} "$s"; exit "$s"`);
  const marked = `${whole}\nesxi-zfs-listing-end:${nonce} 0\n`;
  assert.deepEqual(readEndMarked(marked, nonce, 'h: zfs get'), { stdout: whole, status: 0 });
  assert.deepEqual(readEndMarked(`out\nesxi-zfs-listing-end:${nonce} 1\n`, nonce, 'h'), { stdout: 'out', status: 1 });
  r.verified('the end line gives back the exact output and the exit status of the listing');
  for (const cut of [marked.slice(0, marked.indexOf('createtxg\t12') + 'createtxg\t1'.length), whole.split('\n').slice(0, -2).join('\n'), marked.slice(0, -1), `${whole}\nesxi-zfs-listing-end:ffffffffffffffff 0\n`]) {
    assert.throws(() => readEndMarked(cut, nonce, 'h1: zfs get'), (e: Error) => e instanceof ListingCutShortError && /^h1: zfs get: the listing was cut short/.test(e.message));
  }
  r.verified('cut mid-line, without its last line, without the end line\'s newline, or with another call\'s end line: ListingCutShortError naming the host and the command');

  // The replication reader over a session that stops after half the listing and exits 0.
  const host: StorageHostRef = { name: 'san1', os: 'linux', address: '192.0.2.10', hostKey: 'ssh-ed25519 AAAA', credential: { user: 'root' }, storageAddress: '10.0.1.10' };
  const half = whole.split('\n').slice(0, 4).join('\n') + '\n';
  const transport = new RecordingTransport([
    { match: /^(\S*\/)?zfs get -H -p -d 1 .* sp1\/nas\/vol0$/, reply: { stdout: half } },
    { match: /^(\S*\/)?zpool get all sp1$/, reply: { stdout: 'NAME PROPERTY VALUE SOURCE\nsp1 version 23 default\n' } },
    { match: /^(\S*\/)?zfs get -H -o value esxi-zfs:fenced/, reply: { stdout: '-\n' } },
    { match: /^(\S*\/)?zfs list -H -r -t filesystem,volume -o name,origin sp1$/, reply: { stdout: 'sp1\t-\nsp1/nas/vol0\t-\n' } },
    { match: /^(\S*\/)?zfs destroy/, reply: {} },
  ]);
  transport.cutShort.push(/zfs get -H -p -d 1/);
  const activities = createDatasetActivities({ transport });
  await assert.rejects(activities.readDatasetState({ host, dataset: 'sp1/nas/vol0' }), /san1: (\S*\/)?zfs get -H -p -d 1 .*: the listing was cut short/);
  await assert.rejects(activities.destroySnapshots({ host, dataset: 'sp1/nas/vol0', names: ['esxi-zfs_1'], prefix: 'esxi-zfs', protect: [] }), ListingCutShortError);
  assert.deepEqual(transport.ran('san1', /zfs destroy|zfs send|zfs rollback/), []);
  r.verified('readDatasetState and destroySnapshots fail on a snapshot listing without its end line; nothing was destroyed, sent or rolled back');
  transport.cutShort.length = 0;
  assert.deepEqual((await activities.readDatasetState({ host, dataset: 'sp1/nas/vol0' })).snapshots?.map((s) => s.name), ['s1']);
  r.verified('the same listing whole (end line present) is read as it is');
  r.happened('Every listing the planners read (zfs get/list, zpool get/list/status) is run with an end line carrying a per-call nonce and the exit status; output without it is ListingCutShortError, a retryable error, never a plan.');
}));

const call = (method: string, returns?: MethodCall['returns']): MethodCall => ({ method, requestType: `${method}RequestType`, args: {}, ...(returns && { returns }) });
const envelope = (inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`;
const ok = (body: string) => ({ status: 200, contentType: 'text/xml; charset=utf-8', body });
const session = (inner: string) => envelope(`<LoginResponse xmlns="urn:vim25"><returnval>${inner}</returnval></LoginResponse>`);
const userSession = '<key>52a1</key><userName>root</userName><fullName>Root</fullName><loginTime>2026-12-03T10:00:00Z</loginTime><lastActiveTime>2026-12-03T10:00:00Z</lastActiveTime><locale>en</locale><messageLocale>en</messageLocale><extensionSession>false</extensionSession>';

test('SOAP answers with extra, missing or doubled elements and unknown xsi:types: extra ignored safely, the rest a clear error', recorded('hostile/soap-unexpected-elements', async (r) => {
  const login = call('Login', { type: 'UserSession' });
  const plain = parseResponse(login, ok(session(userSession))) as Record<string, unknown>;
  const extra = parseResponse(login, ok(session(`${userSession}<futureField><nested>1</nested></futureField><unknownFlag>true</unknownFlag>`))) as Record<string, unknown>;
  assert.equal(extra.userName, 'root');
  assert.equal(extra.extensionSession, false);
  assert.deepEqual(Object.fromEntries(Object.entries(extra).filter(([k]) => k in plain)), plain);
  r.verified('elements the schema does not know (a newer server\'s fields) leave every known field as it was');

  assert.throws(() => parseResponse(login, ok(session(userSession.replace('<userName>root</userName>', '<userName>root</userName><userName>admin</userName>')))), (e: Error) => e instanceof SoapProtocolError && /Login: .*<userName> of UserSession appears twice/.test(e.message));
  r.verified('a one-valued field given twice (userName root and admin) is a SoapProtocolError naming the method and field, not a guess');
  assert.throws(() => parseResponse(login, ok(envelope(`<LoginResponse xmlns="urn:vim25"><returnval>${userSession}</returnval><returnval>${userSession}</returnval></LoginResponse>`))), /Login: .*2 returnval elements where Login returns one/);
  r.verified('two return values for a method that returns one: an error');
  assert.throws(() => parseResponse(login, ok(session(userSession.replace('<extensionSession>false</extensionSession>', '<extensionSession>maybe</extensionSession>')))), /Login: .*<extensionSession>: not an xsd:boolean/);
  r.verified('a value that does not fit its declared type (a boolean "maybe") is an error naming the element');
  assert.throws(() => parseResponse(login, ok(envelope('<LogoutResponse xmlns="urn:vim25"/>'))), /expected LoginResponse, got LogoutResponse/);
  r.verified('another method\'s response is an error');
  assert.equal(parseResponse(login, ok(envelope('<LoginResponse xmlns="urn:vim25"/>'))), undefined);
  r.verified('a response without its returnval reads as no value (undefined, which methods that may return nothing rely on), never a made-up one');

  const unknownType = parseResponse(login, ok(session(userSession).replace('<returnval>', '<returnval xsi:type="UserSessionFromTheFuture">'))) as Record<string, unknown>;
  assert.equal(unknownType._type, 'UserSessionFromTheFuture');
  assert.equal(unknownType.userName, 'root');
  assert.equal(unknownType.extensionSession, false);
  r.verified('an unknown xsi:type is read as the declared type (fields typed as the schema says) and keeps its name in _type');

  for (const [answer, reason] of [
    [{ status: 500, contentType: 'text/plain', body: 'Internal Server Error' }, /HTTP 500 \(text\/plain\): not a SOAP response/],
    [{ status: 200, contentType: 'text/xml', body: '' }, /malformed or truncated XML \(0 bytes\)|no SOAP envelope/],
    [{ status: 200, contentType: 'text/xml', body: session(userSession).slice(0, 300) }, /malformed or truncated XML \(300 bytes\)/],
    [{ status: 503, contentType: 'text/xml', body: envelope('') }, /HTTP 503 .*no SOAP envelope with a body/],
  ] as const) {
    assert.throws(() => parseResponse(login, answer), (e: Error) => e instanceof SoapProtocolError && reason.test(e.message));
  }
  r.verified('a 500 with a plain-text body, an empty 200, a body cut at 300 bytes and a 503 with an empty envelope: SoapProtocolError with the status and reason');
  r.happened('Unknown elements and xsi:types are read around safely; a doubled one-valued field, a doubled returnval, a mistyped value, another method\'s response, or a non-SOAP/truncated body is a SoapProtocolError naming the method.');
}));

test('HTTP answers that are not SOAP over a real socket: a 500 page, an empty 200, a body cut short: clear errors', recorded('hostile/http-broken-answers', async (r) => {
  const answers: Record<string, (res: http.ServerResponse) => void> = {
    '/500': (res) => res.writeHead(500, { 'content-type': 'text/html' }).end('<html><body>Internal Server Error</body></html>'),
    '/empty': (res) => res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(),
    '/truncated': (res) => res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(session(userSession).slice(0, 200)),
    // Promises the whole envelope, sends 200 bytes, then the connection drops.
    '/dropped': (res) => {
      const body = session(userSession);
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
      res.write(body.slice(0, 200), () => res.socket?.destroy());
    },
  };
  const server = http.createServer((req, res) => answers[req.url ?? '']!(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const transport = new HttpTransport(new URL(base), {});
  const login = call('Login', { type: 'UserSession' });
  const exchange = (p: string) => transport.exchange({ method: 'POST', url: new URL(p, base), headers: { 'content-type': 'text/xml' }, body: '<x/>', timeoutMs: 5000 });
  try {
    for (const [p, reason] of [
      ['/500', /^Login: HTTP 500 \(text\/html\): not a SOAP response/],
      ['/empty', /^Login: HTTP 200 \(text\/xml; charset=utf-8\): malformed or truncated XML \(0 bytes\)|no SOAP envelope/],
      ['/truncated', /^Login: HTTP 200 .*: malformed or truncated XML \(200 bytes\)/],
    ] as const) {
      const answer = await exchange(p);
      assert.throws(() => parseResponse(login, answer), (e: Error) => e instanceof SoapProtocolError && reason.test(e.message));
      r.verified(`${p.slice(1)}: SoapProtocolError "${reason.source.replace(/\\/g, '').slice(1, 60)}..."`);
    }
    await assert.rejects(exchange('/dropped'), (e: Error) => /aborted|ECONNRESET|socket hang up/i.test(`${e.message} ${(e as NodeJS.ErrnoException).code}`));
    r.verified('a body shorter than its Content-Length (connection dropped): the exchange fails, no partial body is parsed');
  } finally {
    transport.close();
    server.close();
  }
  r.happened('Over a real HTTP socket, a 500 HTML page, an empty 200, a 200 whose XML stops at 200 bytes and a connection dropped mid-body each ended as an error naming the method and status (or the dropped connection): no value was read from them.');
}));

test('failback restores the original\'s local properties: a multi-line note is copied whole, a note forging sharenfs is refused', async () => {
  const host: StorageHostRef = { name: 'san1', os: 'linux', address: '192.0.2.10', hostKey: 'ssh-ed25519 AAAA', credential: { user: 'root' }, storageAddress: '10.0.1.10' };
  const run = async (note: string) => {
    const transport = new RecordingTransport([
      { match: /zfs get -H -p -d 1 .* sp1\/nas\/vol0$/, reply: { stdout: snapshotRows('sp1/nas/vol0@final', '77', '9').join('\n') } },
      { match: /zfs get -H -p -d 1 .* sp1\/nas\/vol0-incoming$/, reply: { code: 1, stderr: "cannot open 'sp1/nas/vol0-incoming': dataset does not exist\n" } },
      { match: /zfs get -H -o name,property,value,source all sp1\/nas\/vol0-aside$/, reply: { stdout: `sp1/nas/vol0-aside\tsharenfs\toff\tdefault\nsp1/nas/vol0-aside\tcom.example:note\t${note}\tlocal\n` } },
      { match: /zfs get -H -o name,property,value,source all sp1\/nas\/vol0$/, reply: { stdout: 'sp1/nas/vol0\tsharenfs\toff\tdefault\n' } },
      { match: /zfs get -H -o value type sp1\/nas\/vol0-aside$/, reply: { stdout: 'filesystem\n' } },
      { match: /zfs get -H -o value mounted /, reply: { stdout: 'yes\n' } },
      { match: /zfs get -H -o value sharenfs /, reply: { stdout: 'off\n' } },
      { match: /zfs (set|unmount|destroy) /, reply: {} },
    ]);
    const activities = createFailoverStorageActivities({ transport });
    const result = await activities.swapInReceivedCopy({ original: { host, dataset: 'sp1/nas/vol0' }, incoming: 'sp1/nas/vol0-incoming', aside: 'sp1/nas/vol0-aside', finalGuid: '77' }).catch((e: Error) => e);
    return { result, sets: transport.ran('san1', /zfs (set|destroy) /) };
  };
  const honest = await run('first line\nsecond\tline');
  assert.ok(!(honest.result instanceof Error), String(honest.result));
  assert.match(honest.sets[0]!, /zfs set 'com\.example:note=first line\nsecond\tline' sp1\/nas\/vol0$/);
  const forged = await run('x\tlocal\nsp1/nas/vol0-aside\tsharenfs\trw=@0.0.0.0/0\tlocal\nq\tw\te');
  assert.match(String(forged.result), /sp1\/nas\/vol0-aside sharenfs is listed twice/);
  assert.deepEqual(forged.sets, []);
});
