/** The replication user: created or mended so that it logs in by key only, through the OS profile. */
import { type PlannedCommand, guestProfile } from '../guest/profile';
import type { OsProfile } from '../hosts';
import { checkUser, TrustConfigError } from './checks';
import type { PasswdEntry } from './keys';


export interface UserFacts {
  passwd?: PasswdEntry;
  /** The password field of its shadow entry (`!`, `*`, `*LK*`, `NP`, a hash...). */
  password?: string;
}

const NO_LOGIN_SHELLS = new Set(['/usr/sbin/nologin', '/sbin/nologin', '/bin/false', '/usr/bin/false']);

/**
 * Commands that make `user` a replication user able to log in with a key and only a key.
 * With `UsePAM no`, OpenSSH refuses an account whose password is locked (`!` on Linux, `*LK*` on
 * illumos), so a new account gets "no password, not locked": `*` on Linux, `passwd -N` (NP) on illumos.
 */
export function replicationUserPlan(os: OsProfile, user: string, facts: UserFacts, allowSystemUser = false): PlannedCommand[] {
  checkUser(user);
  const profile = guestProfile(os);
  if (!facts.passwd) return profile.createKeyOnlyUser(user);
  if (facts.passwd.uid < profile.firstRegularUid && !allowSystemUser) {
    throw new TrustConfigError(
      `replication user ${user} is uid ${facts.passwd.uid}, an account of the OS itself (below ${profile.firstRegularUid} on ${os}): name an account of its own in replication.user, or set replication.allowSystemUser: true if you mean it`,
    );
  }
  const unlock = profile.unlockKeyLogin(user, facts.password);
  return [
    ...(unlock ? [unlock] : []),
    ...(NO_LOGIN_SHELLS.has(facts.passwd.shell)
      ? [{ argv: ['usermod', '-s', '/bin/sh', user], change: `${user}: shell ${facts.passwd.shell} cannot run the forced command: set /bin/sh` }]
      : []),
  ];
}
