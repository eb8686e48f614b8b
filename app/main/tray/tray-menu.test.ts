import { describe, expect, it } from 'vitest';
import type { ContainerView, EngineStatus } from '../../shared/views.js';
import { trayMenu, type TrayItem } from './tray-menu.js';

const connected: EngineStatus = { connection: 'connected', endpoint: 'unix:///x', jobs: true, engineName: 'berthd', engineVersion: '0.1.0', containers: { total: 3, running: 2, paused: 0, stopped: 1 } };
const c = (name: string, state: ContainerView['state'], extra: Partial<ContainerView> = {}): ContainerView => ({
  id: `${name}-id`, name, image: 'busybox', command: '', created: 1, state, status: '', ports: [], labels: {}, ...extra,
});
const labels = (items: TrayItem[]) => items.map((i) => i.type ?? i.label);

describe('trayMenu', () => {
  it('shows the engine, each running container with its actions, recent stopped ones, and the app commands', () => {
    const menu = trayMenu({
      engine: connected, engineControllable: true, enginePaused: false,
      containers: [c('web', 'running'), c('db', 'paused'), c('old', 'exited', { finishedAt: '2026-01-01T00:00:00Z' }), c('older', 'exited', { finishedAt: '2025-01-01T00:00:00Z' })],
    });
    expect(labels(menu)).toEqual(['berthd 0.1.0 · 2 running', 'separator', 'web', 'db (paused)', 'Start a recent container', 'separator', 'Open Berth', 'Pause engine', 'separator', 'Quit Berth']);
    expect(menu[0]!.enabled).toBe(false);
    const web = menu[2]!.submenu!;
    expect(web.map((i) => i.action && `${i.action.kind}:${'verb' in i.action ? i.action.verb : ''}`).filter(Boolean)).toEqual(['container:logs', 'container:terminal', 'container:restart', 'container:stop']);
    expect(menu[3]!.submenu![1]!.enabled).toBe(false); // no terminal into a paused container
    expect(menu[4]!.submenu!.map((i) => i.label)).toEqual(['old', 'older']);
  });

  it('offers only the app commands while the engine is unreachable, and no engine control when not managed', () => {
    const menu = trayMenu({ engine: { connection: 'disconnected', endpoint: 'unix:///x', jobs: false }, containers: [c('web', 'running')], engineControllable: false, enginePaused: false });
    expect(labels(menu)).toEqual(['Engine not reachable', 'separator', 'Open Berth', 'separator', 'Quit Berth']);
  });

  it('offers to resume a paused engine and caps a long running list', () => {
    const many = Array.from({ length: 20 }, (_, i) => c(`c${i}`, 'running'));
    const paused = trayMenu({ engine: connected, containers: [], engineControllable: true, enginePaused: true });
    expect(labels(paused)).toContain('Resume engine');
    expect(paused[0]!.label).toBe('Engine paused');
    const long = trayMenu({ engine: connected, containers: many, engineControllable: false, enginePaused: false });
    expect(long.filter((i) => i.submenu).length).toBe(15);
    expect(labels(long)).toContain('5 more running…');
  });
});
