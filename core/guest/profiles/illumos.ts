/** illumos (OmniOS, OpenIndiana, the runbook's OpenSolaris descendants). */
import type { GuestProfile } from '../profile';
import { parseIllumosFormat } from '../probe-parse';
import { parseShare } from '../storage/exports';

/** The runbook's rights profile for the replication user (`zfs allow` stands for it where it delegates). */
export const ILLUMOS_RIGHTS_PROFILE = 'ZFS File System Management';

const home = (user: string) => `/export/home/${user}`;

export const illumos: GuestProfile = {
  os: 'illumos',
  zfs: '/usr/sbin/zfs',
  zpool: '/usr/sbin/zpool',
  firstRegularUid: 100,
  createKeyOnlyUser: (user) => [
    {
      argv: ['useradd', '-m', '-d', home(user), '-s', '/bin/sh', '-P', ILLUMOS_RIGHTS_PROFILE, user],
      change: `created user ${user} (home ${home(user)}, profile '${ILLUMOS_RIGHTS_PROFILE}')`,
    },
    { argv: ['passwd', '-N', user], change: `${user}: no password (passwd -N): key login only` },
  ],
  unlockKeyLogin: (user, password) =>
    password?.startsWith('*LK*')
      ? { argv: ['passwd', '-N', user], change: `${user}: was locked (*LK*): set no password (passwd -N) so key login works` }
      : undefined,
  growablePipes: false,
  rpcinfo: '/usr/sbin/rpcinfo',
  exportTable: { argv: ['/usr/sbin/share'], parse: parseShare },
  // `format` reads its disk selection from stdin: with /dev/null it lists and exits.
  diskListings: () => [{ argv: ['sh', '-c', 'format </dev/null'], parse: parseIllumosFormat }],
};
