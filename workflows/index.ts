export { probeStorageHosts } from './probe-storage-hosts';
export { replicateDataset } from './replicate-dataset';
export { scheduledReplication } from './scheduled-replication';
export { setupReplicationTrust, prepareReplicationHost, exchangeReplicationKeys } from './setup-replication-trust';
export { cloneReplica } from './clone-replica';
export { configureStorage } from './configure-storage';
export { enablePassthrough } from './enable-passthrough';
export { buildStorageVm } from './build-storage-vm';
export { registerDatastore } from './register-datastore';
