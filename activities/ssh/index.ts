/** The SSH layer: pinned host keys, pooled connections, quoted commands, timeouts, heartbeats. */
export { quote, shellCommand, sh, ShellScript } from '../../core/quote';
export { resolveCredential, expandHome, CredentialError, type CredentialRef, type ResolvedCredential, type ResolveOptions } from './credentials';
export {
  fingerprint,
  parseHostKey,
  keyBlobType,
  serverHostKeyAlgorithms,
  createHostVerifier,
  isHostKeyMismatch,
  HostKeyMismatchError,
  type PinnedHostKey,
  type HostIdentity,
  type HostKeyMismatchDetails,
} from './host-key';
export { SshPool, type SshPoolOptions, type SshPoolStats, type ChannelLease } from './connection';
export { SshConnectionError, describeTarget, targetKey, type SshTarget, type ConnectStage } from './target';
export {
  exec,
  execTrustedScript,
  execOk,
  execStream,
  stopProcessGroup,
} from './exec';
export {
  showCommand,
  SshCommandError,
  ExecTimeoutError,
  ExecAbortedError,
  ExecMaxBufferError,
  RemoteCommandError,
  type Command,
  type ExecOptions,
  type ExecResult,
  type ExecStreamHandle,
  type ExecStreamResult,
} from './exec-types';
export { signalChannel } from './process-group';
