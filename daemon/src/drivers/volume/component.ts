// Builds the volumedriver for the daemon: the VolumeManager on <data-root>/volumes, its events and
// jobs. Daemon.wire() calls openVolumes(); the container component takes `driver`.
import type { Engine } from '../../engine/engine';
import type { Logger } from '../../log';
import { VolumeManager } from './manager';
import { registerVolumeJobs } from './jobs';

export function openVolumes(o: { engine: Engine; dataRoot: string; log: Logger }): VolumeManager {
  const driver = new VolumeManager({
    dataRoot: o.dataRoot,
    log: o.log,
    publish: (action, name, attributes) => o.engine.events.publish('volume', action, name, attributes),
  });
  registerVolumeJobs(o.engine, () => driver);
  return driver;
}
