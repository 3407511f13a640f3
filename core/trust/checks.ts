/** Validation: every name that reaches a shell, sudoers or authorized_keys is checked here first. */
import { datasetNameProblem, hostNameProblem, userNameProblem } from '../names';

export class TrustConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustConfigError';
  }
}

/** Characters `quote()` leaves alone: a dataset made of them is sent by the source verbatim. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function checkUser(user: string): void {
  const problem = userNameProblem(user);
  if (problem) throw new TrustConfigError(`replication user '${user}': ${problem}`);
}

export function checkDataset(dataset: string): void {
  const problem = datasetNameProblem(dataset);
  if (problem) throw new TrustConfigError(`dataset '${dataset}': ${problem}`);
  // The guard compares the client's command text with "zfs receive -u DATASET": the dataset must be
  // a word the source's shell quoting leaves as is, or the two would never be equal.
  if (!PLAIN_WORD.test(dataset) || dataset.includes(',')) throw new TrustConfigError(`dataset '${dataset}' has characters the receive guard cannot match`);
}

export function checkHostName(name: string): void {
  const problem = hostNameProblem(name);
  if (problem) throw new TrustConfigError(`host '${name}': ${problem}`);
}

const ADDRESS = /^[0-9A-Za-z.:-]+$/;
export function checkAddress(address: string): void {
  if (!ADDRESS.test(address)) throw new TrustConfigError(`address '${address}' is not an IP address or host name`);
}
