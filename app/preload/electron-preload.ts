// Electron preload (sandboxed, bundled to CommonJS): exposes window.berth and nothing else. Each
// method is a thin ipcRenderer.invoke on its contract channel; events arrive on their channel.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { buildBerthApi } from '../shared/api.js';
import { isEventChannel } from '../shared/contract.js';
import type { BridgeError } from '../shared/api.js';

/** Main answers every invoke with an envelope, so the engine's status survives the IPC boundary. */
type Envelope = { ok: true; result: unknown } | { ok: false; error: BridgeError };

const api = buildBerthApi({
  async invoke(channel, args) {
    const reply = (await ipcRenderer.invoke(channel, ...args)) as Envelope;
    if (reply.ok) return reply.result;
    throw Object.assign(new Error(reply.error.message), { status: reply.error.status });
  },
  subscribe(channel, listener) {
    if (!isEventChannel(channel)) throw new Error(`unknown event channel ${String(channel)}`);
    // Never hand the IpcRendererEvent (and its sender) to the page.
    const wrapped = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(channel, wrapped);
    return () => ipcRenderer.removeListener(channel, wrapped);
  },
});

contextBridge.exposeInMainWorld('berth', api);
