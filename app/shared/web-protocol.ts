// Messages between web mode's server (app/main/web) and the page's bridge (app/preload/web-bridge.ts),
// one JSON object per WebSocket message: requests answered by id, events pushed by channel.
import type { BridgeError } from './api.js';
import type { EventChannel, RequestChannel } from './contract.js';

export type ClientMessage = { t: 'req'; id: number; channel: RequestChannel; args: unknown[] };

export type ServerMessage =
  | { t: 'res'; id: number; ok: true; result: unknown }
  | { t: 'res'; id: number; ok: false; error: BridgeError }
  | { t: 'evt'; channel: EventChannel; payload: unknown };

/** The WebSocket path under web mode's origin. */
export const WEB_SOCKET_PATH = '/berth-ws';
