/** configureStorage's activities, one per operator step, over one transport. */
import type { Transport } from '../../transport';
import { createNetworkActivities } from './network';
import { createOsActivities } from './os';
import { createStorageActivities } from './storage';

export function createConfigureActivities(deps: { transport: Transport }) {
  return {
    ...createOsActivities(deps),
    ...createNetworkActivities(deps),
    ...createStorageActivities(deps),
  };
}

export type ConfigureActivities = ReturnType<typeof createConfigureActivities>;
