export { probeStorageHosts } from './probe-storage-hosts';
