// A volume that cannot be set up yet: the pod waits in ContainerCreating with
// a FailedMount event (the kubelet's wording), and the agent tries again.
import { TugError } from '../../errdefs.js';

export class MountError extends TugError {
  constructor(
    readonly volume: string,
    readonly reason: string,
  ) {
    super('unavailable', `MountVolume.SetUp failed for volume "${volume}" : ${reason}`);
  }
}
