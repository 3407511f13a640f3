/** The replication user: created or mended so that it logs in by key only, through the OS profile. */
import { type PlannedCommand, guestProfile } from '../guest/profile';
import type { OsProfile } from '../hosts';
import { checkUser } from './checks';
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
export function replicationUserPlan(os: OsProfile, user: string, facts: UserFacts): PlannedCommand[] {
  checkUser(user);
  const profile = guestProfile(os);
  if (!facts.passwd) return profile.createKeyOnlyUser(user);
  const unlock = profile.unlockKeyLogin(user, facts.password);
  return [
    ...(unlock ? [unlock] : []),
    ...(NO_LOGIN_SHELLS.has(facts.passwd.shell)
      ? [{ argv: ['usermod', '-s', '/bin/sh', user], change: `${user}: shell ${facts.passwd.shell} cannot run the forced command: set /bin/sh` }]
      : []),
  ];
}
