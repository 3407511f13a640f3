/**
 * NFS on lab hosts: the lab's exportfs (what zfs-fuse runs for sharenfs), nfs-ganesha serving its
 * exports, zfs-fuse's preload, and libnfs clients in namespaces of their own proving the access
 * lists from outside. The first part runs the exportfs stand-in on a scratch root; the second a
 * one-host lab in its own dir (.data/lab-nfs-test). Runs as root.
 *
 *   node --import tsx --test test/lab/nfs.test.ts
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run } from '../../lab/exec';
import { labDown, labExec, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { addNfsClient, nfsTool, nfsUrl, removeNfsClient, type NfsClient, type NfsVersion } from '../../lab/nfs/client';
import { ETAB, exportfs, GANESHA_EXPORTS } from '../../lab/nfs/exportfs';
import { nfsPids, shareZfs, startNfs, stopNfs, waitForNfs } from '../../lab/nfs/server';
import { hasPreload } from '../../lab/nfs/tools';
import { terminate } from '../../lab/sys';

describe('the lab\'s exportfs, on a scratch root', () => {
  let root: string;
  let err = '';
  const fx = (...argv: string[]) => {
    err = '';
    let out = '';
    const code = exportfs(argv, { root, out: (t) => { out += t; }, err: (t) => { err += t; } });
    return { code, out, err };
  };
  const etab = () => fs.readFileSync(path.join(root, ETAB), 'utf8');
  const ganesha = () => fs.readFileSync(path.join(root, GANESHA_EXPORTS), 'utf8');

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ezlab-exportfs-'));
    for (const d of ['var/lib/nfs', 'etc/exports.d', 'sp1/a', 'sp1/b']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n10.0.1.21\tvh1-nas vh1\n10.0.1.22\tvh2-nas\n');
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test('zfs-fuse\'s share and unshare calls: -o OPTS CLIENT:PATH adds to etab and ganesha, -u removes', () => {
    assert.equal(fx('-o', 'rw,no_root_squash,fsid=1,no_subtree_check', '10.0.1.21:/sp1/a').code, 0, err);
    assert.equal(fx('-o', 'ro,fsid=1,no_subtree_check', '10.0.1.0/24:/sp1/a').code, 0, err);
    assert.equal(fx('-o', 'fsid=2,no_subtree_check', '*:/sp1/b').code, 0, err);
    assert.equal(etab(), [
      '/sp1/a\t10.0.1.21(rw,sync,wdelay,hide,no_subtree_check,fsid=1,sec=sys,secure,no_root_squash,no_all_squash)\n',
      '/sp1/a\t10.0.1.0/24(ro,sync,wdelay,hide,no_subtree_check,fsid=1,sec=sys,secure,root_squash,no_all_squash)\n',
      '/sp1/b\t*(ro,sync,wdelay,hide,no_subtree_check,fsid=2,sec=sys,secure,root_squash,no_all_squash)\n',
    ].join(''));
    const config = ganesha();
    assert.match(config, /Export_Id = 1;\n {2}Path = "\/sp1\/a";\n {2}Pseudo = "\/sp1\/a";\n {2}Protocols = 3, 4;\n {2}Access_Type = None;\n {2}FSAL \{ Name = VFS; \}/);
    assert.match(config, /Clients = 10\.0\.1\.21;\n {4}Access_Type = RW;\n {4}Squash = No_Root_Squash;\n {4}PrivilegedPort = true;/);
    assert.match(config, /Clients = 10\.0\.1\.0\/24;\n {4}Access_Type = RO;\n {4}Squash = Root_Squash;/);
    assert.match(config, /Export_Id = 2;\n {2}Path = "\/sp1\/b";[^]*Clients = \*;\n {4}Access_Type = RO;/);
    assert.doesNotMatch(config, /Clients = "/, 'a quoted client makes ganesha drop the export');

    assert.equal(fx('-u', '10.0.1.21:/sp1/a').code, 0, err);
    assert.doesNotMatch(etab(), /10\.0\.1\.21/);
    assert.doesNotMatch(ganesha(), /10\.0\.1\.21/);
    assert.deepEqual(fx('-u', '10.0.1.21:/sp1/a'), { code: 1, out: '', err: 'exportfs: Could not find \'10.0.1.21:/sp1/a\' to unexport.\n' });
    assert.equal(fx('-u', '10.0.1.0/24:/sp1/a').code, 0, err);
    assert.doesNotMatch(ganesha(), /\/sp1\/a/, 'a path without clients is no longer exported');
    assert.equal(fx('-ua').code, 0, err);
    assert.equal(etab(), '');
  });

  test('exporting a client again replaces its options: squash comes back', () => {
    assert.equal(fx('-o', 'rw,no_root_squash', 'vh1-nas:/sp1/a').code, 0, err);
    assert.equal(fx('-o', 'rw', 'vh1-nas:/sp1/a').code, 0, err);
    assert.equal(etab(), '/sp1/a\tvh1-nas(rw,sync,wdelay,hide,no_subtree_check,sec=sys,secure,root_squash,no_all_squash)\n');
    assert.match(ganesha(), /# vh1-nas\(rw,[^\n]*\n {4}Clients = 10\.0\.1\.21;\n {4}Access_Type = RW;\n {4}Squash = Root_Squash;/, 'names resolve through /etc/hosts');
    fx('-ua');
  });

  test('what it does not model is refused, and the table stays as it was', () => {
    assert.equal(fx('-o', 'rw', '10.0.1.21:/sp1/a').code, 0, err);
    const before = [etab(), ganesha()];
    const refused: [string[], RegExp][] = [
      [['-o', 'rw,nosuid', '10.0.1.22:/sp1/a'], /unknown or unsupported export option "nosuid"/],
      [['-o', 'rw,async', '10.0.1.22:/sp1/a'], /option "async"/],
      [['-o', 'rw,sec=krb5', '10.0.1.22:/sp1/a'], /sec=krb5 is not served/],
      [['-o', 'rw', '@vh:/sp1/a'], /client "@vh" is not served/],
      [['-o', 'rw', '*.nas:/sp1/a'], /client "\*\.nas" is not served/],
      // OpenZFS's syntax as zfs-fuse splits it: client "rw=@10.0.1.21/32".
      [['-o', '@10.0.1.22/32,no_root_squash,fsid=1,no_subtree_check', 'rw=@10.0.1.21/32:/sp1/a'], /client "rw=@10\.0\.1\.21\/32" is not served/],
      [['-o', 'rw', 'nowhere-nas:/sp1/a'], /cannot resolve client "nowhere-nas": not in \/etc\/hosts/],
      [['-o', 'rw', '10.0.1.22:/sp1/missing'], /Failed to stat \/sp1\/missing/],
      [['-o', 'rw', '10.0.1.22:sp1/a'], /Invalid export syntax: 10\.0\.1\.22:sp1\/a/],
      [['-x'], /unknown option -x/],
      [['-r', '10.0.1.22:/sp1/a'], /extra arguments are not permitted/],
    ];
    for (const [argv, message] of refused) {
      const r = fx(...argv);
      assert.equal(r.code, 1, argv.join(' '));
      assert.match(r.err, message, argv.join(' '));
      assert.deepEqual([etab(), ganesha()], before, argv.join(' '));
    }
    fx('-ua');
  });

  test('-ra exports what /etc/exports and exports.d list (OpenZFS\'s zfs.exports) and drops the rest', () => {
    assert.equal(fx('-i', '-o', 'rw', '10.0.1.22:/sp1/b').code, 0, err); // older OpenZFS: exportfs -i -o
    fs.writeFileSync(path.join(root, 'etc/exports'), '# none here\n');
    fs.writeFileSync(path.join(root, 'etc/exports.d/zfs.exports'), [
      '/sp1/a 10.0.1.21(sec=sys,rw,no_subtree_check,mountpoint,no_root_squash)',
      '/sp1/a 10.0.1.0/24(sec=sys,ro,no_subtree_check,mountpoint) *(sec=sys,ro)',
      '',
    ].join('\n'));
    assert.equal(fx('-ra').code, 0, err);
    assert.deepEqual(etab().split('\n').filter(Boolean).map((l) => l.replace(/\(.*/, '')), ['/sp1/a\t10.0.1.21', '/sp1/a\t10.0.1.0/24', '/sp1/a\t*']);
    // /sp1/a is no mount point on the scratch root: only the entry without `mountpoint` counts.
    assert.match(ganesha(), /Clients = \*;/);
    assert.doesNotMatch(ganesha(), /10\.0\.1\.21|10\.0\.1\.0\/24/);
    assert.match(fx('-v').out, /^\/sp1\/a {8}\t<world>\(ro,[^\n]*\)$/m);
    fs.rmSync(path.join(root, 'etc/exports.d/zfs.exports'));
    assert.equal(fx('-ra').code, 0, err);
    assert.equal(etab(), '');
  });

  test('clients in CLIENT blocks as nfs-utils matches them: hosts, then networks, then everyone', () => {
    for (const c of ['*', '10.0.1.0/255.255.255.0', 'vh2-nas']) assert.equal(fx('-o', 'rw', `${c}:/sp1/a`).code, 0, err);
    const clients = [...ganesha().matchAll(/Clients = ([^;]*);/g)].map((m) => m[1]);
    assert.deepEqual(clients, ['10.0.1.22', '10.0.1.0/24', '*']);
    fx('-ua');
  });
});

// ---------------------------------------------------------------------------------------------

const DIR = path.resolve(__dirname, '..', '..', '.data', 'lab-nfs-test');
const DATASET = 'sp1/nas/vol0';
const MOUNTPOINT = '/export/vol0';

describe('NFS on a lab host', { timeout: 300_000 }, () => {
  let lab: LabState;
  let host: LabHostState;
  /** Listed with no_root_squash, listed with root squashed, not listed. */
  let keeper: NfsClient;
  let squashed: NfsClient;
  let stranger: NfsClient;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ezlab-nfs-'));

  const ok = async (...argv: string[]) => {
    const r = await labExec(host, argv);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** As the product runs commands: over SSH, so sshd's PATH must find the lab's exportfs. */
  const ssh = (command: string) => run('ssh', [
    '-i', lab.privateKeyFile, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
    `root@${host.address}`, command,
  ], { timeoutMs: 60_000 });
  const local = (name: string, text: string) => {
    const file = path.join(scratch, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const url = (file: string, version: NfsVersion) => nfsUrl(host.address, `${MOUNTPOINT}/${file}`, version);
  const write = (c: NfsClient, file: string, version: NfsVersion) => nfsTool(c, 'nfs-cp', [local(file, `${file} from ${c.address}\n`), url(file, version)]);
  const read = (c: NfsClient, file: string, version: NfsVersion) => nfsTool(c, 'nfs-cat', [url(file, version)]);
  const ownerInHost = async (file: string) => (await ok('stat', '-c', '%u:%g', `${MOUNTPOINT}/${file}`)).trim();

  before(async () => {
    const started = Date.now();
    lab = await labUp({ hosts: 1, dir: DIR });
    process.stdout.write(`# labUp (1 host, with NFS): ${Date.now() - started} ms\n`);
    host = lab.hosts[0]!;
    const client = (k: number) => addNfsClient({
      netns: `${lab.netnsPrefix}nfsc${k}`, veth: `ezl${lab.index}c${k}`, bridge: lab.bridge,
      address: `10.213.${lab.index}.${200 + k}`, prefixLength: 24,
    });
    [keeper, squashed, stranger] = [await client(1), await client(2), await client(3)];
    await ok('zpool', 'create', '-f', 'sp1', '/srv/disks/c8t1d0');
    await ok('zfs', 'create', '-p', '-o', `mountpoint=${MOUNTPOINT}`, DATASET);
    await ok('chmod', '1777', MOUNTPOINT); // so that a squashed root (65534) may create files
  });

  after(async () => {
    for (const c of [keeper, squashed, stranger]) if (c) await removeNfsClient(c);
    await labDown({ dir: DIR });
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('the host runs rpcbind and ganesha, and zfs-fuse has its NFS preload', () => {
    assert.ok(nfsPids(host), 'rpcbind and ganesha run in the host, as recorded');
    assert.ok(hasPreload(host.pids.zfsFuse), 'zfs-fuse maps lab/bin/zfs-fuse-nfs.so');
  });

  test('zfs set sharenfs over SSH exports the dataset to the listed clients only', async () => {
    const set = await ssh(`zfs set sharenfs='${keeper.address}:rw,no_root_squash ${squashed.address}:rw' ${DATASET} && exportfs -v`);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, new RegExp(`^${MOUNTPOINT}  +\\t${keeper.address.replace(/\./g, '\\.')}\\(rw,.*,no_root_squash,`, 'm'));

    for (const version of [3, 4] as const) {
      const wrote = await write(keeper, `keeper-v${version}.txt`, version);
      assert.equal(wrote.code, 0, wrote.stderr);
      const back = await read(keeper, `keeper-v${version}.txt`, version);
      assert.equal(back.stdout, `keeper-v${version}.txt from ${keeper.address}\n`, back.stderr);
      assert.equal((await write(squashed, `squashed-v${version}.txt`, version)).code, 0);
    }
    const v3 = await write(stranger, 'stranger.txt', 3);
    assert.notEqual(v3.code, 0);
    assert.match(v3.stderr, /MNT3ERR_ACCES/);
    const v4 = await read(stranger, 'keeper-v4.txt', 4);
    assert.notEqual(v4.code, 0);
    assert.match(v4.stderr, /NFS4ERR_NOENT/);
    assert.equal((await labExec(host, ['test', '-e', `${MOUNTPOINT}/stranger.txt`])).code, 1);
  });

  test('root stays root with no_root_squash and is squashed to 65534 without', async () => {
    for (const version of [3, 4]) {
      assert.equal(await ownerInHost(`keeper-v${version}.txt`), '0:0');
      assert.equal(await ownerInHost(`squashed-v${version}.txt`), '65534:65534');
    }
  });

  // Reproduced without the preload: after a fresh start, the first NFSv4 access once the kernel
  // has dropped its inodes fails with NFS4ERR_STALE (every time on this machine).
  test('file handles survive the kernel dropping its inode cache', async () => {
    for (let round = 0; round < 2; round++) {
      await stopNfs(host);
      await startNfs(host);
      await waitForNfs(host);
      await shareZfs(host);
      assert.equal((await read(keeper, 'keeper-v3.txt', 4)).code, 0);
      fs.writeFileSync('/proc/sys/vm/drop_caches', '2');
      for (const version of [4, 3] as const) {
        const back = await read(keeper, 'keeper-v3.txt', version);
        assert.equal(back.code, 0, `round ${round}, NFSv${version}: ${back.stderr}`);
      }
    }
  });

  test('an option the lab does not model fails the share, and nothing more is exported', async () => {
    const r = await ssh(`zfs set sharenfs='${stranger.address}:rw,nosuid' ${DATASET}`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown or unsupported export option "nosuid"[^]*cannot share 'sp1\/nas\/vol0'/);
    assert.notEqual((await read(stranger, 'keeper-v3.txt', 3)).code, 0);
  });

  test('sharenfs=off removes the export', async () => {
    await ok('zfs', 'set', 'sharenfs=off', DATASET);
    assert.equal(await ok('exportfs'), '');
    for (const version of [3, 4] as const) assert.notEqual((await read(keeper, 'keeper-v3.txt', version)).code, 0);
  });

  test('after zfs-fuse and ganesha stop and start (a reboot), zfs share -a exports it again from the property', async () => {
    await ok('zfs', 'set', `sharenfs=${keeper.address}:rw,no_root_squash`, DATASET);
    assert.equal((await read(keeper, 'keeper-v3.txt', 3)).code, 0);

    await stopNfs(host);
    assert.deepEqual(await terminate([host.pids.zfsFuse]), []);
    lab = await labUp({ hosts: 1, dir: DIR }); // repairs: zfs-fuse again, its pools imported and mounted, the NFS server and zfs share -a
    host = lab.hosts[0]!;
    assert.ok(hasPreload(host.pids.zfsFuse), 'the restarted zfs-fuse has its preload too');
    assert.equal((await read(keeper, 'keeper-v3.txt', 3)).code, 0, 'the repair started the NFS server and shared the property again');

    // A boot's order by hand: the NFS server with an empty export table, then zfs share -a.
    await stopNfs(host);
    await startNfs(host);
    await waitForNfs(host);
    assert.equal(await ok('exportfs'), '', 'a boot starts with an empty export table');
    assert.notEqual((await read(keeper, 'keeper-v3.txt', 3)).code, 0);

    await shareZfs(host);
    for (const version of [3, 4] as const) {
      const back = await read(keeper, 'keeper-v3.txt', version);
      assert.equal(back.stdout, `keeper-v3.txt from ${keeper.address}\n`, back.stderr);
    }
    assert.notEqual((await read(squashed, 'keeper-v3.txt', 3)).code, 0, 'only the clients in the property');
  });
});
