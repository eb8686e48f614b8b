// Docker events: what happened to containers, images, networks, volumes and the daemon, in the
// shape of the Engine API's EventMessage. Recent events are kept so `docker events --since` can
// replay them; subscribers get new ones as they are published.
import { EventEmitter } from 'node:events';

export type EventType = 'builder' | 'config' | 'container' | 'daemon' | 'image' | 'network' | 'node' | 'plugin' | 'secret' | 'service' | 'volume';

export interface DockerEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local' | 'swarm';
  time: number;
  timeNano: number;
  /** Deprecated fields that API clients before 1.52 still read for container and image events. */
  status?: string;
  id?: string;
  from?: string;
}

/** dockerd keeps this many events for replay; so do we. */
const KEPT = 1024;

export class EventBus {
  private readonly recent: DockerEvent[] = [];
  private readonly emitter = new EventEmitter();
  private lastMicro = 0;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(type: EventType, action: string, actorId: string, attributes: Record<string, string> = {}): DockerEvent {
    // Stamps that never repeat keep `--since`/`--until` boundaries exact. They step in microseconds:
    // nanoseconds since 1970 exceed a double's exact integers, microseconds do not.
    let micro = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    if (micro <= this.lastMicro) micro = this.lastMicro + 1;
    this.lastMicro = micro;
    const nano = micro * 1000;
    const event: DockerEvent = {
      Type: type,
      Action: action,
      Actor: { ID: actorId, Attributes: attributes },
      scope: 'local',
      time: Math.floor(nano / 1e9),
      timeNano: nano,
    };
    if (type === 'container' || type === 'image') {
      event.status = action;
      event.id = actorId;
      if (attributes.image) event.from = attributes.image;
    }
    this.recent.push(event);
    if (this.recent.length > KEPT) this.recent.shift();
    this.emitter.emit('event', event);
    return event;
  }

  /** Kept events with sinceNano <= timeNano <= untilNano. */
  replay(sinceNano: number, untilNano = Number.POSITIVE_INFINITY): DockerEvent[] {
    return this.recent.filter((e) => e.timeNano >= sinceNano && e.timeNano <= untilNano);
  }

  subscribe(listener: (e: DockerEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
