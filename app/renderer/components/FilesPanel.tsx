// A container's files: browse directories and download a file, through the engine's archive
// endpoint (works for stopped containers too).
import { useEffect, useState } from 'react';
import type { ContainerFileEntry } from '../../shared/views.js';
import { berth } from '../berth.js';
import { PathCrumbs } from './PathCrumbs.js';
import { formatBytes } from './format.js';
import { useApp } from './store-context.js';

export function FilesPanel({ containerId }: { containerId: string }) {
  const notify = useApp((s) => s.notify);
  const [dir, setDir] = useState('/');
  const [entries, setEntries] = useState<ContainerFileEntry[] | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let current = true;
    setError('');
    berth().containers.files(containerId, dir).then(
      (e) => { if (current) setEntries(e); },
      (e: Error) => { if (current) { setEntries(null); setError(e.message); } },
    );
    return () => { current = false; };
  }, [containerId, dir]);

  const download = async (entry: ContainerFileEntry) => {
    try {
      const file = await berth().containers.readFile(containerId, entry.path);
      const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
      // octet-stream: the browser keeps the file's own name instead of guessing an extension.
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = file.name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      notify('error', `Cannot download ${entry.path}: ${(err as Error).message}`);
    }
  };
  const parts = dir.split('/').filter(Boolean);

  return (
    <div className="tree files" aria-label="Container files">
      <div className="toolbar">
        <PathCrumbs dir={dir} onOpen={setDir} />
      </div>
      {error ? <p className="empty error-text">{error}</p> : null}
      {entries ? (
        <ul className="entries">
          {dir !== '/' ? <li><button className="entry" onClick={() => setDir('/' + parts.slice(0, -1).join('/'))}><span className="entry-icon">↰</span><span>..</span></button></li> : null}
          {entries.map((e) => (
            <li key={e.path} data-file={e.path}>
              <button className="entry" disabled={e.type !== 'directory' && e.type !== 'file'} onClick={() => (e.type === 'directory' ? setDir(e.path) : void download(e))} title={e.type === 'file' ? `Download ${e.name}` : undefined}>
                <span className="entry-icon">{e.type === 'directory' ? '▸' : e.type === 'symlink' ? '↪' : '·'}</span>
                <span className="entry-name mono">{e.name}{e.linkTarget ? <span className="muted"> → {e.linkTarget}</span> : null}</span>
                <span className="muted entry-size">{e.type === 'file' ? formatBytes(e.size) : ''}</span>
                <span className="muted small">{e.modified ? new Date(e.modified).toLocaleString() : ''}</span>
              </button>
            </li>
          ))}
          {entries.length === 0 ? <li className="muted empty">Empty directory.</li> : null}
        </ul>
      ) : null}
    </div>
  );
}
