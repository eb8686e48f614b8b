// The window: a sidebar (views, engine status, theme) and the current view.
import { useEffect } from 'react';
import type { Theme } from '../../shared/views.js';
import { berth } from '../berth.js';
import { ActivityView } from './ActivityView.js';
import { BuildView } from './BuildView.js';
import { ContainerDetail } from './ContainerDetail.js';
import { ContainersView } from './ContainersView.js';
import { ImageDetail } from './ImageDetail.js';
import { ImagesView } from './ImagesView.js';
import { SettingsView } from './SettingsView.js';
import { useApp } from './store-context.js';
import { NetworksView, VolumesView } from './VolumesNetworksViews.js';

export function App() {
  const view = useApp((s) => s.view);
  const theme = useApp((s) => s.settings.theme);
  useTheme(theme);
  return (
    <div className="app">
      <Sidebar />
      <main className="main">
        {view.name === 'containers' ? <ContainersView /> : null}
        {view.name === 'container' ? <ContainerDetail id={view.id} tab={view.tab} /> : null}
        {view.name === 'images' ? <ImagesView /> : null}
        {view.name === 'image' ? <ImageDetail reference={view.reference} fromBuild={view.fromBuild} /> : null}
        {view.name === 'build' ? <BuildView /> : null}
        {view.name === 'volumes' ? <VolumesView /> : null}
        {view.name === 'networks' ? <NetworksView /> : null}
        {view.name === 'activity' ? <ActivityView /> : null}
        {view.name === 'settings' ? <SettingsView /> : null}
      </main>
      <Notices />
    </div>
  );
}

function useTheme(theme: Theme): void {
  useEffect(() => {
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const apply = () => { document.documentElement.dataset.theme = theme === 'system' ? (media.matches ? 'dark' : 'light') : theme; };
    apply();
    media.addEventListener('change', apply);
    return () => media.removeEventListener('change', apply);
  }, [theme]);
}

function Sidebar() {
  const view = useApp((s) => s.view);
  const show = useApp((s) => s.show);
  const containers = useApp((s) => s.containers.length);
  const images = useApp((s) => s.images.length);
  const volumes = useApp((s) => s.volumes.length);
  const networks = useApp((s) => s.networks.length);
  const activeJobs = useApp((s) => s.jobs.filter((j) => j.state === 'running' || j.state === 'queued').length);
  const engine = useApp((s) => s.engine);
  const theme = useApp((s) => s.settings.theme);
  const current = view.name === 'container' ? 'containers' : view.name === 'image' || view.name === 'build' ? 'images' : view.name;
  const item = (name: 'containers' | 'images' | 'volumes' | 'networks' | 'activity', label: string, count: number) => (
    <button className={`nav-item ${current === name ? 'active' : ''}`} aria-current={current === name ? 'page' : undefined} onClick={() => show({ name })}>
      <span>{label}</span>
      {count ? <span className="count">{count}</span> : null}
    </button>
  );
  return (
    <aside className="sidebar">
      <div className="brand">⚓ Berth</div>
      <nav aria-label="Views">
        {item('containers', 'Containers', containers)}
        {item('images', 'Images', images)}
        {item('volumes', 'Volumes', volumes)}
        {item('networks', 'Networks', networks)}
        {item('activity', 'Activity', activeJobs)}
      </nav>
      <div className="spacer" />
      <button className={`engine ${current === 'settings' ? 'active' : ''}`} title={engine.error ?? engine.endpoint} data-connection={engine.connection} onClick={() => show({ name: 'settings' })} aria-label="Engine and settings">
        <div><span className={`dot ${engine.connection === 'connected' ? 'state-running' : engine.connection === 'connecting' ? 'state-created' : 'state-dead'}`} /> {engine.connection === 'connected' ? `${engine.engineName} ${engine.engineVersion ?? ''}` : engine.connection}</div>
        <div className="muted small ellipsis">{engine.endpoint}{engine.apiVersion ? ` · API ${engine.apiVersion}` : ''}</div>
        {engine.connection !== 'connected' && engine.error ? <div className="error-text small ellipsis">{engine.error}</div> : null}
      </button>
      <label className="theme small muted">
        Theme
        <select value={theme} onChange={(e) => void berth().settings.set({ theme: e.target.value as Theme })} aria-label="Theme">
          <option value="system">System</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </label>
    </aside>
  );
}

function Notices() {
  const notices = useApp((s) => s.notices);
  const dismiss = useApp((s) => s.dismiss);
  useEffect(() => {
    if (!notices.length) return;
    const t = setTimeout(() => dismiss(notices[0]!.id), 8000);
    return () => clearTimeout(t);
  }, [notices, dismiss]);
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          <button className="link" onClick={() => dismiss(n.id)} aria-label="Dismiss">✕</button>
        </div>
      ))}
    </div>
  );
}
