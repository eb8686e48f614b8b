// Web mode's window.berth: the same contract as Electron's preload, carried over a WebSocket to
// `berth web`. Loaded before the renderer; it reconnects when the socket drops.
import { buildBerthApi, type BerthApi } from '../shared/api.js';
import type { EventChannel } from '../shared/contract.js';
import { WEB_SOCKET_PATH, type ClientMessage, type ServerMessage } from '../shared/web-protocol.js';

declare global {
  interface Window { berth: BerthApi }
}

const listeners = new Map<EventChannel, Set<(payload: unknown) => void>>();
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
const queue: ClientMessage[] = [];
let nextId = 1;
let socket: WebSocket | undefined;
let retry = 250;

function connect(): void {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WEB_SOCKET_PATH}?token=${encodeURIComponent(token)}`);
  ws.onopen = () => {
    socket = ws;
    retry = 250;
    for (const m of queue.splice(0)) ws.send(JSON.stringify(m));
  };
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data)) as ServerMessage;
    if (m.t === 'evt') {
      for (const l of listeners.get(m.channel) ?? []) l(m.payload);
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(Object.assign(new Error(m.error.message), { status: m.error.status }));
  };
  ws.onclose = () => {
    socket = undefined;
    // Requests in flight are lost with the socket: fail them so the UI can say so.
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(Object.assign(new Error('lost the connection to berth web; retrying'), { status: 503 }));
    }
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 5000);
  };
}

window.berth = buildBerthApi({
  invoke(channel, args) {
    return new Promise((resolve, reject) => {
      const m: ClientMessage = { t: 'req', id: nextId++, channel, args };
      pending.set(m.id, { resolve, reject });
      if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(m));
      else queue.push(m);
    });
  },
  subscribe(channel, listener) {
    let set = listeners.get(channel);
    if (!set) listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  },
});

connect();
