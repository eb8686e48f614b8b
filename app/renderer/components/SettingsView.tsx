// Engine and settings: which engine the app talks to (unix socket or TCP), what it is, and the theme.
import { useEffect, useState } from 'react';
import type { Theme } from '../../shared/views.js';
import { berth } from '../berth.js';
import { useApp } from './store-context.js';

export function SettingsView() {
  const engine = useApp((s) => s.engine);
  const settings = useApp((s) => s.settings);
  const notify = useApp((s) => s.notify);
  const [endpoint, setEndpoint] = useState(settings.endpoint);
  useEffect(() => setEndpoint(settings.endpoint), [settings.endpoint]);

  const apply = async (value: string) => {
    try {
      await berth().settings.set({ endpoint: value.trim() });
    } catch (err) {
      notify('error', `Cannot use that endpoint: ${(err as Error).message}`);
    }
  };

  const facts: [string, string | undefined][] = [
    ['Connection', engine.connection],
    ['Endpoint', engine.endpoint],
    ['Engine', engine.engineName && `${engine.engineName} ${engine.engineVersion ?? ''}`],
    ['API version', engine.apiVersion],
    ['Platform', engine.os && `${engine.os}/${engine.arch}`],
    ['Containers', engine.containers && `${engine.containers.running} running, ${engine.containers.paused} paused, ${engine.containers.stopped} stopped`],
    ['Images', engine.images?.toString()],
    ['Job feed', engine.connection === 'connected' ? (engine.jobs ? 'yes (berthd)' : 'no') : undefined],
  ];

  return (
    <section className="view" aria-label="Settings">
      <header className="view-header"><h1>Engine and settings</h1></header>
      <div className="settings">
        <dl className="facts">
          {facts.filter(([, v]) => v).map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}
          {engine.error && engine.connection !== 'connected' ? <div><dt>Last error</dt><dd className="error-text">{engine.error}</dd></div> : null}
        </dl>
        <form className="setting" onSubmit={(e) => { e.preventDefault(); void apply(endpoint); }}>
          <label htmlFor="endpoint">Engine endpoint</label>
          <div className="setting-row">
            <input id="endpoint" className="mono" placeholder="DOCKER_HOST or /var/run/docker.sock" value={endpoint} onChange={(e) => setEndpoint(e.target.value)} />
            <button type="submit" className="primary" disabled={endpoint.trim() === settings.endpoint}>Connect</button>
          </div>
          <p className="muted small">unix:///path/to.sock or tcp://host:2376 (TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH). Empty uses DOCKER_HOST, then the default socket.</p>
        </form>
        <div className="setting">
          <label htmlFor="theme">Theme</label>
          <select id="theme" value={settings.theme} onChange={(e) => void berth().settings.set({ theme: e.target.value as Theme })}>
            <option value="system">System</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </div>
      </div>
    </section>
  );
}
