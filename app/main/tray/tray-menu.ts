// The tray menu as a pure function of state, so it is tested without Electron: engine status,
// running containers with their actions, recent stopped ones to start, and the app commands.
// tray.ts turns the template into an Electron Menu and each action into a service call.
import type { ContainerView, EngineStatus } from '../../shared/views.js';

export type TrayAction =
  | { kind: 'open' }
  | { kind: 'container'; verb: 'start' | 'stop' | 'restart' | 'logs' | 'terminal'; id: string }
  | { kind: 'engine'; verb: 'pause' | 'resume' }
  | { kind: 'quit' };

export interface TrayItem {
  label?: string;
  type?: 'separator';
  enabled?: boolean;
  action?: TrayAction;
  submenu?: TrayItem[];
}

export interface TrayState {
  engine: EngineStatus;
  containers: ContainerView[];
  /** Whether the app manages the engine (the VM) and can pause it. */
  engineControllable: boolean;
  enginePaused: boolean;
}

const MAX_RUNNING = 15;
const MAX_RECENT = 5;

export function trayMenu(state: TrayState): TrayItem[] {
  const { engine } = state;
  const items: TrayItem[] = [{ label: engineLine(engine, state.enginePaused), enabled: false }];
  const running = state.containers.filter((c) => c.state === 'running' || c.state === 'paused' || c.state === 'restarting');
  const stopped = state.containers
    .filter((c) => c.state === 'exited' || c.state === 'created')
    .sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? '') || b.created - a.created);

  if (engine.connection === 'connected') {
    items.push({ type: 'separator' });
    if (running.length === 0) items.push({ label: 'No running containers', enabled: false });
    for (const c of running.slice(0, MAX_RUNNING)) {
      items.push({
        label: c.state === 'running' ? c.name : `${c.name} (${c.state})`,
        submenu: [
          { label: 'Open logs', action: { kind: 'container', verb: 'logs', id: c.id } },
          { label: 'Open terminal', action: { kind: 'container', verb: 'terminal', id: c.id }, enabled: c.state === 'running' },
          { type: 'separator' },
          { label: 'Restart', action: { kind: 'container', verb: 'restart', id: c.id } },
          { label: 'Stop', action: { kind: 'container', verb: 'stop', id: c.id } },
        ],
      });
    }
    if (running.length > MAX_RUNNING) items.push({ label: `${running.length - MAX_RUNNING} more running…`, action: { kind: 'open' } });
    if (stopped.length > 0) {
      items.push({
        label: 'Start a recent container',
        submenu: stopped.slice(0, MAX_RECENT).map((c) => ({ label: c.name, action: { kind: 'container', verb: 'start', id: c.id } })),
      });
    }
  }

  items.push({ type: 'separator' }, { label: 'Open Berth', action: { kind: 'open' } });
  if (state.engineControllable) {
    items.push(state.enginePaused
      ? { label: 'Resume engine', action: { kind: 'engine', verb: 'resume' } }
      : { label: 'Pause engine', action: { kind: 'engine', verb: 'pause' }, enabled: engine.connection === 'connected' });
  }
  items.push({ type: 'separator' }, { label: 'Quit Berth', action: { kind: 'quit' } });
  return items;
}

function engineLine(engine: EngineStatus, paused: boolean): string {
  if (paused) return 'Engine paused';
  if (engine.connection === 'connected') {
    const counts = engine.containers ? ` · ${engine.containers.running} running` : '';
    return `${engine.engineName ?? 'Engine'} ${engine.engineVersion ?? ''}`.trim() + counts;
  }
  if (engine.connection === 'connecting') return 'Connecting to the engine…';
  return 'Engine not reachable';
}
