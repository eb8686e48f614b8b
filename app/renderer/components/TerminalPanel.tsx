// A terminal on a container: xterm.js drawing an exec session's tty (a new shell) or an attach to
// the main process. Keystrokes go to main as terminals:input; output comes back on
// terminals:data; the fit addon sizes the terminal to the panel and each size change is sent on.
import { useEffect, useRef, useState } from 'react';
import { berth } from '../berth.js';
import { createXterm } from './xterm.js';

export type TerminalMode = 'exec' | 'attach';

export function TerminalPanel({ containerId, running, mode = 'exec', hidden = false }: { containerId: string; running: boolean; mode?: TerminalMode; hidden?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<'connecting' | 'open' | 'closed'>('connecting');
  const [message, setMessage] = useState('');
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!running || !host.current) return;
    const api = berth();
    const xterm = createXterm(host.current, { cursorBlink: true });
    const term = xterm.term;
    let sessionId: string | undefined;
    let disposed = false;
    const early: { sessionId: string; data: string }[] = [];
    const offData = api.on('terminals:data', (m) => {
      if (sessionId === undefined) early.push(m);
      else if (m.sessionId === sessionId) term.write(m.data);
    });
    const offExit = api.on('terminals:exit', (m) => {
      if (m.sessionId !== sessionId) return;
      setState('closed');
      setMessage(m.error ? `The session ended: ${m.error}` : mode === 'attach' ? 'The main process ended.' : 'The shell exited.');
    });
    setState('connecting');
    const size = { containerId, cols: term.cols, rows: term.rows };
    (mode === 'attach' ? api.terminals.attach(size) : api.terminals.open(size)).then((id) => {
      if (disposed) { void api.terminals.close(id); return; }
      sessionId = id;
      for (const m of early.splice(0)) if (m.sessionId === id) term.write(m.data);
      setState('open');
      term.focus();
    }, (err: Error) => {
      setState('closed');
      setMessage(mode === 'attach' ? `Cannot attach: ${err.message}` : `Cannot open a shell: ${err.message}`);
    });
    const input = term.onData((data) => { if (sessionId) void api.terminals.input(sessionId, data); });
    const resize = term.onResize(({ cols, rows }) => { if (sessionId) void api.terminals.resize(sessionId, cols, rows).catch(() => undefined); });
    return () => {
      disposed = true;
      input.dispose(); resize.dispose();
      offData(); offExit();
      if (sessionId) void api.terminals.close(sessionId);
      xterm.dispose();
    };
  }, [containerId, running, attempt, mode]);

  if (!running) return <p className="empty">The container is not running. Start it to {mode === 'attach' ? 'attach' : 'open a terminal'}.</p>;
  return (
    <div className="terminal-panel" hidden={hidden}>
      <div className="toolbar">
        <span className={`dot ${state === 'open' ? 'state-running' : state === 'closed' ? 'state-exited' : 'state-created'}`} />
        <span className="muted">{state === 'open' ? (mode === 'attach' ? 'Attached to the main process; closing the tab detaches' : 'Shell session') : state === 'connecting' ? 'Connecting…' : message}</span>
        <span className="spacer" />
        {state === 'closed' ? <button onClick={() => setAttempt((n) => n + 1)}>Reconnect</button> : null}
      </div>
      <div className="terminal-host" ref={host} data-testid="terminal" />
    </div>
  );
}
