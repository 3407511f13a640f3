/**
 * The network half of configureStorage, pure: facts in, plans out. An activity
 *   1. runs `profile.factsScript` (transport.runScript) and `profile.parseFacts(stdout)`, or for the
 *      name files alone `nameFactsScript(profile)` and `parseNameFacts`;
 *   2. plans: `planNetwork`, `planNameResolution`, `planManagementSwitch`;
 *   3. performs each plan's actions in order: `file` → transport.writeFile(host, path, content, spec),
 *      `command` → transport.runOk(host, argv); and reports `plan.report`.
 */
export { NETWORK_PLAN_ERRORS, NetworkPlanError, type NetworkPlanErrorKind } from './errors';
export type { FileText, LiveAddress, LiveRoute, NetworkFacts, NetworkStyleName } from './facts';
export { HOSTS_BEGIN, HOSTS_END, mergeHostsBlock } from './hosts-file';
export { planManagementSwitch, type ManagementSwitch, type ManagementSwitchPlan } from './management-switch';
export { REVERT_SECONDS } from './timed-revert';
export { nameFactsScript, parseNameFacts, type NameFacts } from './name-facts';
export { hostsEntries, planNameResolution, type NameResolutionPlan } from './name-resolution';
export { checkNetworkSpec, mapNics, type NicAssignment } from './nic-mapping';
export type { PlannedAction, PlannedFile, TimedRevert } from './plan';
export { planNetwork, type NetworkPlan } from './plan-network';
export { networkProfiles, type NetworkProfile } from './profiles';
