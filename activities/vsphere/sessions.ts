/**
 * Logged-in vSphere sessions for activities: one per endpoint and user, opened on first use and
 * kept for the worker's life. The password comes from the worker's environment (the inventory
 * names the variable, never the value); TLS is pinned to the inventory's thumbprint. A session the
 * server dropped logs in again by itself (Session). What retrying cannot fix is non-retryable.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failure } from '../../core/failures';
import type { VsphereEndpoint } from '../../core/passthrough/shared';
import { isFault, Session, ThumbprintMismatchError, type TlsTrust } from './index';

export interface VsphereSessions {
  session(endpoint: VsphereEndpoint): Promise<Session>;
  closeAll(): Promise<void>;
}

export function vsphereSessions(opts: { env?: NodeJS.ProcessEnv; warn?: (message: string) => void } = {}): VsphereSessions {
  const env = opts.env ?? process.env;
  const open = new Map<string, Promise<Session>>();

  async function connect(endpoint: VsphereEndpoint): Promise<Session> {
    const { user, passwordEnv } = endpoint.credential;
    const password = passwordEnv === undefined ? undefined : env[passwordEnv];
    if (!password) {
      throw ApplicationFailure.nonRetryable(
        `vSphere ${endpoint.url}: the worker's environment has no ${passwordEnv ?? 'passwordEnv'} (the password of ${user}): set it where the worker starts`,
        Failure.VsphereCredentials,
      );
    }
    const trust: TlsTrust = endpoint.thumbprint !== undefined ? { thumbprint: endpoint.thumbprint } : {};
    let session: Session;
    try {
      session = await Session.connect({ url: endpoint.url, trust, ...(opts.warn && { warn: opts.warn }) });
    } catch (error) {
      if (error instanceof ThumbprintMismatchError) throw ApplicationFailure.nonRetryable(error.message, Failure.VsphereThumbprint);
      throw error;
    }
    try {
      await session.login({ userName: user, password });
    } catch (error) {
      await session.close().catch(() => undefined);
      if (isFault(error, 'InvalidLogin')) {
        throw ApplicationFailure.nonRetryable(`vSphere ${endpoint.url}: ${user} cannot log in (InvalidLogin): check the user and ${passwordEnv}`, Failure.VsphereLogin);
      }
      throw error;
    }
    return session;
  }

  return {
    session(endpoint) {
      // Everything the connection depends on: another password variable or pin is another session.
      const key = JSON.stringify([endpoint.url, endpoint.credential.user, endpoint.credential.passwordEnv, endpoint.thumbprint]);
      let session = open.get(key);
      if (!session) {
        session = connect(endpoint);
        open.set(key, session);
        // A failed connect is not kept: the next call (a retry) connects again.
        session.catch(() => open.delete(key));
      }
      return session;
    },
    async closeAll() {
      const sessions = [...open.values()];
      open.clear();
      await Promise.allSettled(sessions.map(async (s) => (await s).close()));
    },
  };
}
