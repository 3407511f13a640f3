/**
 * How long a runbook step may go without a heartbeat before the server retries it on another
 * worker. Every activity beats once a second while it runs (activities/heartbeat.ts `heartbeating`),
 * so this only has to notice a dead worker: a SIGKILLed worker's step is retried after about this
 * long instead of after its start-to-close timeout (minutes).
 */
export const STEP_HEARTBEAT_TIMEOUT = '10 seconds';
