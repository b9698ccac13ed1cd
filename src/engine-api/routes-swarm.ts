// /swarm of the Docker Engine API. tug has no swarm mode, so it answers as a
// dockerd node outside any swarm does (503 with dockerd's words): clients that
// leave a swarm "just in case" (docker-py's network tests tear down with
// POST /swarm/leave?force=true and accept only 503 or 406) carry on.
import { unavailable } from '../errdefs.js';
import type { Router } from './router.js';

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

export function swarmRoutes(r: Router): void {
  r.add('GET', '/swarm', async () => {
    throw unavailable(NOT_MANAGER);
  });
  r.add('POST', '/swarm/leave', async () => {
    throw unavailable('This node is not part of a swarm');
  });
}
