import { describe, expect, it } from 'vitest';
import { EventBus, type DockerEvent } from './events';

describe('EventBus', () => {
  it('publishes events in the Engine API shape, with the legacy fields for containers', () => {
    const bus = new EventBus();
    const e = bus.publish('container', 'start', 'abc', { image: 'busybox', name: 'web' });
    expect(e).toMatchObject({ Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { image: 'busybox', name: 'web' } }, scope: 'local', status: 'start', id: 'abc', from: 'busybox' });
    expect(e.time).toBe(Math.floor(e.timeNano / 1e9));
  });

  it('gives every event a distinct, increasing timestamp', () => {
    const bus = new EventBus();
    const stamps = Array.from({ length: 100 }, () => bus.publish('daemon', 'reload', 'd').timeNano);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThan(stamps[i - 1]!);
  });

  it('replays kept events between since and until, inclusive', () => {
    const bus = new EventBus();
    const a = bus.publish('image', 'tag', 'a');
    const b = bus.publish('image', 'tag', 'b');
    const c = bus.publish('image', 'tag', 'c');
    expect(bus.replay(b.timeNano).map((e) => e.id)).toEqual(['b', 'c']);
    expect(bus.replay(a.timeNano, b.timeNano).map((e) => e.id)).toEqual(['a', 'b']);
    expect(bus.replay(c.timeNano + 1000)).toEqual([]);
  });

  it('delivers new events to subscribers until they unsubscribe', () => {
    const bus = new EventBus();
    const got: DockerEvent[] = [];
    const stop = bus.subscribe((e) => got.push(e));
    bus.publish('volume', 'create', 'v1');
    stop();
    bus.publish('volume', 'create', 'v2');
    expect(got.map((e) => e.Actor.ID)).toEqual(['v1']);
  });
});
