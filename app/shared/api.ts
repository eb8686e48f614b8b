// window.berth's shape, derived from the contract tables, and the one function that builds it
// over any transport (Electron IPC in preload, a WebSocket in web mode).
import {
  requestChannels, type EventChannel, type EventChannels, type RequestArgs, type RequestChannel,
  type RequestResult,
} from './contract.js';

type Namespace = RequestChannel extends `${infer N}:${string}` ? N : never;
type MethodsOf<N extends string> = {
  [C in RequestChannel as C extends `${N}:${infer M}` ? M : never]: (...args: RequestArgs<C>) => Promise<RequestResult<C>>;
};

export type BerthApi = { [N in Namespace]: MethodsOf<N> } & {
  /** Subscribes to an event channel; returns the unsubscribe function. */
  on<E extends EventChannel>(channel: E, listener: (payload: EventChannels[E]) => void): () => void;
};

export interface BerthTransport {
  invoke(channel: RequestChannel, args: unknown[]): Promise<unknown>;
  subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void;
}

export function buildBerthApi(transport: BerthTransport): BerthApi {
  const api: Record<string, unknown> = {};
  for (const channel of requestChannels) {
    const [ns, method] = channel.split(':') as [string, string];
    const target = (api[ns] ??= {}) as Record<string, unknown>;
    target[method] = (...args: unknown[]) => transport.invoke(channel, args);
  }
  api.on = (channel: EventChannel, listener: (payload: unknown) => void) => transport.subscribe(channel, listener);
  return api as BerthApi;
}

/** An error crossing the bridge: the engine's HTTP status and its message, as dockerd words it. */
export interface BridgeError {
  status: number;
  message: string;
}
