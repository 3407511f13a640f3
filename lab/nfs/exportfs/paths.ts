/** The lab's exportfs: where its files are on a lab host, and its one error (message on stderr, exit 1). */
/** Paths inside a lab host. */
export const ETAB = '/var/lib/nfs/etab';
export const ETAB_LOCK = '/var/lib/nfs/etab.lock';
export const EXPORT_IDS = '/var/lib/nfs/ganesha-export-ids.json';
export const GANESHA_EXPORTS = '/var/lib/nfs/ganesha-exports.conf';
export const GANESHA_PID = '/run/ganesha/ganesha.pid';
export const GANESHA_LOG = '/var/log/ganesha/ganesha.log';
export const GANESHA_EXE = '/usr/bin/ganesha.nfsd';
export const EXPORTS_FILE = '/etc/exports';
export const EXPORTS_DIR = '/etc/exports.d';
export const HOSTS_FILE = '/etc/hosts';

export class ExportfsError extends Error {}
