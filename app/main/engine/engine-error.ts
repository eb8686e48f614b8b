// An engine failure as a value: the HTTP status and a sentence a person can act on.
export class EngineError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** What a failed connection means to the person looking at the app. */
export function connectionError(endpoint: string, cause: unknown): EngineError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED') {
    return new EngineError(503, `Cannot connect to the engine at ${endpoint}. Is the engine running?`);
  }
  if (code === 'EACCES') {
    return new EngineError(503, `Permission denied while trying to connect to the engine at ${endpoint}.`);
  }
  return new EngineError(503, `Cannot connect to the engine at ${endpoint}: ${(cause as Error)?.message ?? String(cause)}`);
}
