// The image browser: an image's layers (instruction and size, bottom first) and, on berthd, each
// layer's file tree one directory at a time, marked added / modified / removed by that layer.
import { useEffect, useState } from 'react';
import type { ImageDetailView, LayerTreeView } from '../../shared/views.js';
import { berth } from '../berth.js';
import { PathCrumbs } from './PathCrumbs.js';
import { formatBytes, shortId } from './format.js';
import { useApp } from './store-context.js';

const PAGE = 500;

/** `fromBuild`: opened at the end of a build, so going back returns to its log. */
export function ImageDetail({ reference, fromBuild = false }: { reference: string; fromBuild?: boolean }) {
  const show = useApp((s) => s.show);
  const [detail, setDetail] = useState<ImageDetailView | null>(null);
  const [error, setError] = useState('');
  const [layer, setLayer] = useState(0);

  useEffect(() => {
    setDetail(null);
    setError('');
    berth().images.detail(reference).then((d) => {
      setDetail(d);
      setLayer(Math.max(0, d.layers.length - 1));
    }, (e: Error) => setError(e.message));
  }, [reference]);

  return (
    <section className="view detail" aria-label={`Image ${reference}`}>
      <header className="view-header">
        {fromBuild
          ? <button className="link back" onClick={() => show({ name: 'build' })} aria-label="Back to the build">←</button>
          : <button className="link back" onClick={() => show({ name: 'images' })} aria-label="Back to images">←</button>}
        <h1>{reference}</h1>
        {detail ? <span className="muted ellipsis">{shortId(detail.id)} · {formatBytes(detail.size)} · {detail.os}/{detail.arch}{detail.cmd ? ` · ${detail.cmd.join(' ')}` : ''}</span> : null}
        <span className="spacer" />
        <TagForm reference={reference} />
      </header>
      {error ? <p className="empty error-text">{error}</p> : null}
      {detail ? (
        <div className="image-browser">
          <ol className="layers" aria-label="Layers">
            {detail.layers.map((l) => (
              <li key={l.index}>
                <button className={`layer ${l.index === layer ? 'active' : ''}`} onClick={() => setLayer(l.index)} aria-pressed={l.index === layer} data-layer={l.index}>
                  <span className="layer-index muted">{l.index + 1}</span>
                  <span className="layer-instruction mono" title={l.instruction}>{l.instruction || '—'}</span>
                  <span className="layer-size">{formatBytes(l.size)}</span>
                </button>
              </li>
            ))}
          </ol>
          {detail.browsable
            ? <LayerTree reference={reference} layer={layer} />
            : <p className="empty">This engine reports each layer's history but not its files; berthd can show what every layer added, changed and removed.</p>}
        </div>
      ) : null}
    </section>
  );
}

function LayerTree({ reference, layer }: { reference: string; layer: number }) {
  const [dir, setDir] = useState('/');
  const [changesOnly, setChangesOnly] = useState(false);
  const [page, setPage] = useState<LayerTreeView | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let current = true;
    setError('');
    berth().images.tree(reference, layer, { path: dir, offset: 0, limit: PAGE, changesOnly }).then(
      (p) => { if (current) setPage(p); },
      (e: Error) => { if (current) { setPage(null); setError(e.message); } },
    );
    return () => { current = false; };
  }, [reference, layer, dir, changesOnly]);

  const more = () => {
    if (!page) return;
    void berth().images.tree(reference, layer, { path: dir, offset: page.entries.length, limit: PAGE, changesOnly })
      .then((next) => setPage({ ...page, entries: [...page.entries, ...next.entries] }), (e: Error) => setError(e.message));
  };
  const parts = dir.split('/').filter(Boolean);

  return (
    <div className="tree" aria-label="Layer files">
      <div className="toolbar">
        <PathCrumbs dir={dir} onOpen={setDir} />
        <span className="spacer" />
        <label><input type="checkbox" checked={changesOnly} onChange={(e) => setChangesOnly(e.target.checked)} /> Only this layer's changes</label>
      </div>
      {error ? <p className="empty error-text">{error}</p> : null}
      {page ? (
        <ul className="entries">
          {dir !== '/' ? <li><button className="entry" onClick={() => setDir('/' + parts.slice(0, -1).join('/'))}><span className="entry-icon">↰</span><span>..</span></button></li> : null}
          {page.entries.map((e) => (
            <li key={e.path} data-entry={e.path} data-change={e.change ?? 'none'}>
              <button
                className={`entry ${e.change ?? ''}`}
                disabled={e.type !== 'directory' || e.change === 'removed'}
                onClick={() => setDir(e.path)}
              >
                <span className="entry-icon">{e.type === 'directory' ? '▸' : e.type === 'symlink' ? '↪' : '·'}</span>
                <span className="entry-name mono">{e.name}{e.linkTarget ? <span className="muted"> → {e.linkTarget}</span> : null}</span>
                <span className="muted entry-size">{e.type === 'file' ? formatBytes(e.size) : ''}</span>
                {e.change ? <span className={`badge change-${e.change}`}>{e.change}</span> : <span />}
              </button>
            </li>
          ))}
          {page.entries.length < page.total ? <li><button className="link more" onClick={more}>Show more ({page.total - page.entries.length} left)</button></li> : null}
          {page.total === 0 ? <li className="muted empty">{changesOnly ? 'This layer changed nothing here.' : 'Empty directory.'}</li> : null}
        </ul>
      ) : null}
    </div>
  );
}

/** Adds a tag (repo:tag) to the image. */
function TagForm({ reference }: { reference: string }) {
  const notify = useApp((s) => s.notify);
  const [target, setTarget] = useState('');
  return (
    <form className="pull" onSubmit={(e) => {
      e.preventDefault();
      const t = target.trim();
      if (!t) return;
      berth().images.tag(reference, t).then(() => { setTarget(''); notify('info', `Tagged ${reference} as ${t}`); }, (err: Error) => notify('error', `Tagging failed: ${err.message}`));
    }}>
      <input type="text" placeholder="new repo:tag" value={target} onChange={(e) => setTarget(e.target.value)} aria-label="New tag" />
      <button type="submit" disabled={!target.trim()}>Tag</button>
    </form>
  );
}
