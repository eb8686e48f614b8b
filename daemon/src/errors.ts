// Errors are values with an HTTP status and a sentence a person can act on. The engine and its
// components throw these; the API server is the one place that turns them into responses.

export class EngineError extends Error {
  constructor(readonly status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
  }
}

/** 400: the request itself is wrong (dockerd's errdefs.InvalidParameter). */
export const invalidParameter = (message: string): EngineError => new EngineError(400, message);
/** 401: the registry or the client is not authorised. */
export const unauthorized = (message: string): EngineError => new EngineError(401, message);
/** 403: refused by policy. */
export const forbidden = (message: string): EngineError => new EngineError(403, message);
/** 404: no such object. */
export const notFound = (message: string): EngineError => new EngineError(404, message);
/** 409: the object exists or is in a state that forbids the request. */
export const conflict = (message: string): EngineError => new EngineError(409, message);
/** 304: nothing to do (start of a running container, stop of a stopped one). */
export const notModified = (message = ''): EngineError => new EngineError(304, message);
/** 500: the engine failed; the message says what failed. */
export const systemError = (message: string, cause?: unknown): EngineError => new EngineError(500, message, { cause });
/** 501: the request is valid but this engine does not do it (yet, or on this host). */
export const notImplemented = (message: string): EngineError => new EngineError(501, message);
/** 503: the engine is shutting down or a dependency is unavailable. */
export const unavailable = (message: string): EngineError => new EngineError(503, message);

export function statusOf(err: unknown): number {
  if (err instanceof EngineError) return err.status;
  if (err && typeof err === 'object' && 'name' in err && (err as Error).name === 'AbortError') return 499;
  return 500;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
