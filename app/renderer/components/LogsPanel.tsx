// A container's log: streamed from main, held in a LogBuffer, drawn by the virtual list once per
// animation frame. Follow keeps the stream open and the view pinned to the end; search highlights
// matching lines and steps through them. Matches and the current one are line numbers (LogBuffer's,
// stable while old lines are dropped); the list's rows are indices among the lines held.
import { useEffect, useMemo, useRef, useState } from 'react';
import { berth } from '../berth.js';
import { holds, LogBuffer, lowerBound, stepMatch } from '../logs/log-buffer.js';
import { VirtualList } from './VirtualList.js';

const ROW_HEIGHT = 20;

export function LogsPanel({ containerId }: { containerId: string }) {
  const buffer = useMemo(() => new LogBuffer(), [containerId]);
  const [version, setVersion] = useState(0);
  const [follow, setFollow] = useState(true);
  const [timestamps, setTimestamps] = useState(false);
  const [since, setSince] = useState('');
  const [ended, setEnded] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [current, setCurrent] = useState(-1);
  const listRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const api = berth();
    let streamId: string | undefined;
    let frame = 0;
    let closed = false;
    buffer.clear();
    setEnded(null);
    setCurrent(-1); // its line went with the old stream
    // Output can race the answer to open(); hold it until the stream id is known.
    const early: { streamId: string; chunks: Parameters<LogBuffer['append']>[0] }[] = [];
    const redraw = () => {
      if (!frame) frame = requestAnimationFrame(() => { frame = 0; setVersion(buffer.version); });
    };
    const offData = api.on('logs:data', (m) => {
      if (streamId === undefined) early.push(m);
      else if (m.streamId === streamId) { buffer.append(m.chunks); redraw(); }
    });
    const endedEarly: { streamId: string; error?: string }[] = [];
    const onEnd = (m: { error?: string }) => setEnded(m.error ?? (follow ? 'The log stream ended (the container stopped).' : ''));
    const offEnd = api.on('logs:end', (m) => {
      if (streamId === undefined) endedEarly.push(m);
      else if (m.streamId === streamId) onEnd(m);
    });
    // With "since", the whole log from then on; without, the last 5000 lines.
    api.logs.open({ id: containerId, follow, timestamps, tail: since ? 'all' : 5000, since: since || undefined }).then((id) => {
      if (closed) { void api.logs.close(id); return; }
      streamId = id;
      for (const m of early.splice(0)) if (m.streamId === id) buffer.append(m.chunks);
      for (const m of endedEarly.splice(0)) if (m.streamId === id) onEnd(m);
      redraw();
    }, (err: Error) => setEnded(`Cannot read the log: ${err.message}`));
    return () => {
      closed = true;
      offData(); offEnd();
      cancelAnimationFrame(frame);
      if (streamId) void api.logs.close(streamId);
    };
  }, [containerId, follow, timestamps, since, buffer]);

  // The buffer reads only what came since it was last asked with the same query.
  const matches = useMemo(() => buffer.search(query), [buffer, query, version]);
  const position = holds(matches, current) ? lowerBound(matches, current) : -1;
  const currentRow = current >= buffer.first ? current - buffer.first : -1;

  const step = (direction: 1 | -1) => setCurrent(stepMatch(matches, current, direction));

  return (
    <div className="logs">
      <div className="toolbar">
        <label><input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow</label>
        <label><input type="checkbox" checked={timestamps} onChange={(e) => setTimestamps(e.target.checked)} /> Timestamps</label>
        <label>Since
          <select value={since} onChange={(e) => setSince(e.target.value)} aria-label="Since">
            <option value="">last 5000 lines</option>
            <option value="5m">5 minutes ago</option>
            <option value="1h">1 hour ago</option>
            <option value="24h">1 day ago</option>
            <option value="0">the start</option>
          </select>
        </label>
        <span className="spacer" />
        <input
          className="search"
          type="search"
          placeholder="Search log"
          aria-label="Search log"
          value={query}
          onChange={(e) => { setQuery(e.target.value); setCurrent(-1); }}
          onKeyDown={(e) => { if (e.key === 'Enter') step(e.shiftKey ? -1 : 1); }}
        />
        <span className="muted match-count" aria-live="polite">{query ? `${position >= 0 ? position + 1 : 0}/${matches.length}` : ''}</span>
        <button onClick={() => step(-1)} disabled={!matches.length} aria-label="Previous match">↑</button>
        <button onClick={() => step(1)} disabled={!matches.length} aria-label="Next match">↓</button>
        <button onClick={() => void navigator.clipboard?.writeText(buffer.text())}>Copy</button>
        <button onClick={() => download(`${containerId.slice(0, 12)}.log`, buffer.text())}>Download</button>
      </div>
      <VirtualList
        listRef={listRef}
        className="log-lines"
        label="Log lines"
        count={buffer.length}
        rowHeight={ROW_HEIGHT}
        itemKey={(i) => String(buffer.first + i)}
        stickToBottom={follow && current < 0}
        scrollToIndex={currentRow}
        renderRow={(i) => {
          // The list can redraw on its own (a scroll) after lines came and old ones went, with the
          // count of this render: a row past the end is left empty until the next frame's render.
          const l = buffer.at(i);
          if (!l) return null;
          const n = buffer.first + i;
          return <div className={`log-line ${l.stream} ${holds(matches, n) ? 'match' : ''} ${n === current ? 'current' : ''}`}>{l.text}</div>;
        }}
      />
      {ended ? <p className="log-end muted">{ended}</p> : null}
    </div>
  );
}

/** Saves text as a file through a temporary object URL (no server round trip). */
function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text + '\n'], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
