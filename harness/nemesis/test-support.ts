/** For nemesis tests without real processes: a cluster whose replicas are always up and whose controls do nothing. */
import type { ClusterControl } from './fault-kinds.js';

export const upCluster: ClusterControl = {
  kill: async () => undefined,
  pause: () => undefined,
  resume: () => undefined,
  restart: async () => undefined,
  replica: () => ({ state: 'up' }),
};
