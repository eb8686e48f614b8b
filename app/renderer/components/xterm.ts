// One xterm.js terminal drawn in the app's look, sized to its element: the shell and attach
// panels and the build log share it. The element keeps a handle on the terminal so the tests
// (and curious people) can read the screen buffer.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';

export interface Xterm {
  term: Terminal;
  dispose(): void;
}

export function createXterm(host: HTMLDivElement, options: { cursorBlink?: boolean; disableStdin?: boolean; scrollback?: number } = {}): Xterm {
  const dark = document.documentElement.dataset.theme === 'dark';
  const term = new Terminal({
    cursorBlink: options.cursorBlink ?? false,
    disableStdin: options.disableStdin ?? false,
    scrollback: options.scrollback ?? 1000,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace',
    fontSize: 13,
    theme: dark ? { background: '#0f1115', foreground: '#e6e6e6' } : { background: '#fbfbfc', foreground: '#1d1f24', cursor: '#1d1f24', selectionBackground: '#c9d7f2' },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(host);
  fit.fit();
  (host as HTMLDivElement & { terminal?: Terminal }).terminal = term;
  const observer = new ResizeObserver(() => { try { fit.fit(); } catch { /* hidden panel */ } });
  observer.observe(host);
  return {
    term,
    dispose: () => {
      observer.disconnect();
      term.dispose();
    },
  };
}
