// The Run dialog: image, name, command, ports, environment, volumes, restart policy — the common
// `docker run -d` flags. Fields are parsed on submit; a mistake is shown next to the form.
import { useState, type FormEvent } from 'react';
import { parseEnv, parsePorts, parseVolumes, splitCommand } from '../../shared/run-form.js';
import type { RestartPolicy, RunOptions } from '../../shared/views.js';
import { berth } from '../berth.js';
import { useApp } from './store-context.js';

export function RunDialog({ onClose }: { onClose(): void }) {
  const notify = useApp((s) => s.notify);
  const show = useApp((s) => s.show);
  const [form, setForm] = useState({ image: '', name: '', cmd: '', ports: '', env: '', volumes: '', restart: 'no' as RestartPolicy });
  const [error, setError] = useState('');
  const [running, setRunning] = useState(false);
  const field = (key: keyof typeof form) => ({
    value: form[key],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value }),
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let options: RunOptions;
    try {
      options = {
        image: form.image.trim(),
        name: form.name.trim() || undefined,
        cmd: splitCommand(form.cmd),
        ports: parsePorts(form.ports),
        env: parseEnv(form.env),
        volumes: parseVolumes(form.volumes),
        restart: form.restart,
      };
    } catch (err) {
      setError((err as Error).message);
      return;
    }
    setRunning(true);
    setError('');
    try {
      const id = await berth().containers.run(options);
      notify('info', `Started ${options.name ?? options.image}`);
      onClose();
      show({ name: 'container', id, tab: 'logs' });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setRunning(false);
    }
  };

  return (
    <div className="dialog-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <form className="dialog" role="dialog" aria-label="Run a container" onSubmit={submit} onKeyDown={(e) => { if (e.key === 'Escape') onClose(); }}>
        <h2>Run a container</h2>
        <label>Image<input autoFocus required placeholder="busybox:latest" {...field('image')} /></label>
        <label>Name<input placeholder="optional" {...field('name')} /></label>
        <label>Command<input placeholder="image default" className="mono" {...field('cmd')} /></label>
        <div className="dialog-row">
          <label>Ports<textarea rows={2} placeholder="8080:80" className="mono" {...field('ports')} /></label>
          <label>Environment<textarea rows={2} placeholder="KEY=value" className="mono" {...field('env')} /></label>
        </div>
        <label>Volumes<textarea rows={2} placeholder="/host/path:/path or name:/path" className="mono" {...field('volumes')} /></label>
        <label>Restart
          <select value={form.restart} onChange={(e) => setForm({ ...form, restart: e.target.value as RestartPolicy })}>
            <option value="no">Never</option>
            <option value="on-failure">On failure</option>
            <option value="unless-stopped">Unless stopped</option>
            <option value="always">Always</option>
          </select>
        </label>
        {error ? <p className="error-text" role="alert">{error}</p> : null}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={running || !form.image.trim()}>{running ? 'Starting…' : 'Run'}</button>
        </div>
      </form>
    </div>
  );
}
