/**
 * The vSphere SDK endpoint: https (or http, for a simulator), a host name or IPv4 address, an
 * optional port and path. No user or password in it: those are named by `credentials`. Messages
 * never repeat the URL, which may hold a password.
 */
import { hostNameProblem, ipv4Problem } from '../core/names';
import { checked } from './fields';

export function vsphereUrlProblem(text: string): string | undefined {
  if (text.length > 2048) return 'the URL is longer than 2048 characters';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be a URL like https://vcenter.example/sdk';
  }
  if (url.username || url.password || /^[a-z]+:\/\/[^/]*@/i.test(text)) {
    return 'the URL must not carry a user or password: name them with credentials (its passwordEnv)';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'the URL must be https:// (or http:// for a simulator)';
  if (hostNameProblem(url.hostname) && ipv4Problem(url.hostname)) return 'the URL\'s host must be a host name or an IPv4 address';
  if (url.search || url.hash || /[?#]/.test(text)) return 'the URL must not have a query or fragment';
  if (!/^[A-Za-z0-9._/~-]*$/.test(url.pathname)) return 'the URL\'s path uses letters, digits and ._/~-';
  return undefined;
}

export const vsphereUrl = checked(vsphereUrlProblem);
