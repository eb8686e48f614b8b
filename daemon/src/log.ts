// Structured logging in logfmt, the shape dockerd's logs have (`time=… level=… msg=…`), so the same
// grep habits work. One logger per process; components take a child with their own fields.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

export function isLogLevel(s: string): s is LogLevel {
  return s in order;
}

function quote(v: unknown): string {
  const s = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v);
  if (s === undefined) return '""';
  return /^[A-Za-z0-9_.:/@+-]+$/.test(s) ? s : JSON.stringify(s);
}

export class Logger {
  constructor(
    private readonly sink: { write(s: string): unknown } = process.stderr,
    private state: { level: LogLevel } = { level: 'info' },
    private readonly fields: Record<string, unknown> = {},
  ) {}

  get level(): LogLevel {
    return this.state.level;
  }

  setLevel(level: LogLevel): void {
    this.state.level = level;
  }

  child(fields: Record<string, unknown>): Logger {
    return new Logger(this.sink, this.state, { ...this.fields, ...fields });
  }

  debug(msg: string, fields?: Record<string, unknown>): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.log('error', msg, fields); }

  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (order[level] < order[this.state.level]) return;
    let line = `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}`;
    for (const [k, v] of Object.entries({ ...this.fields, ...fields })) {
      if (v !== undefined) line += ` ${k}=${quote(v)}`;
    }
    this.sink.write(line + '\n');
  }
}

/** The process-wide logger; tests pass their own Logger where output matters. */
export const log = new Logger();
