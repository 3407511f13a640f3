/** The lab's exportfs as the lab and its tests use it: the command, and where its files are on a host. */
export { exportfs, type Io } from './command';
export { ETAB, EXPORT_IDS, GANESHA_EXE, GANESHA_EXPORTS, GANESHA_LOG, GANESHA_PID } from './paths';
