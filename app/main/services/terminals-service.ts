// Terminals for one window: each is an exec with a tty whose hijacked connection carries the
// keystrokes in and the screen out; resizes go to the exec's resize endpoint.
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Duplex } from 'node:stream';
import type { TerminalOpenOptions } from '../../shared/views.js';
import { EngineError } from '../engine/engine-error.js';
import type { Emit } from './broadcaster.js';
import type { EngineService } from './engine-service.js';

/** The first shell the image has, so a bash image gets bash and busybox gets sh. */
const DEFAULT_SHELL = ['/bin/sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi'];

interface Session { execId: string; socket: Duplex }

export class TerminalsService {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly engine: EngineService, private readonly emit: Emit) {}

  async open(options: TerminalOpenOptions): Promise<string> {
    const client = this.engine.client();
    const execId = await client.createExec(options.containerId, {
      Cmd: options.cmd?.length ? options.cmd : DEFAULT_SHELL,
      AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true,
      Env: ['TERM=xterm-256color'],
      ConsoleSize: [options.rows, options.cols],
    });
    const socket = await client.startExec(execId, true);
    const sessionId = randomUUID();
    this.sessions.set(sessionId, { execId, socket });
    const text = new StringDecoder('utf8');
    socket.on('data', (chunk: Buffer) => {
      const data = text.write(chunk);
      if (data) this.emit('terminals:data', { sessionId, data });
    });
    let ended = false;
    const end = (error?: string): void => {
      if (ended) return;
      ended = true;
      this.sessions.delete(sessionId);
      this.emit('terminals:exit', { sessionId, error });
    };
    socket.on('error', (err) => end(err.message));
    socket.on('close', () => end());
    socket.on('end', () => { end(); socket.destroy(); });
    // Older engines ignore ConsoleSize; an explicit resize makes the first screen the right size.
    client.resizeExec(execId, options.cols, options.rows).catch(() => undefined);
    return sessionId;
  }

  input(sessionId: string, data: string): void {
    this.session(sessionId).socket.write(data);
  }

  async resize(sessionId: string, cols: number, rows: number): Promise<void> {
    await this.engine.client().resizeExec(this.session(sessionId).execId, cols, rows);
  }

  close(sessionId: string): void {
    this.sessions.get(sessionId)?.socket.destroy();
    this.sessions.delete(sessionId);
  }

  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id);
  }

  private session(sessionId: string): Session {
    const s = this.sessions.get(sessionId);
    if (!s) throw new EngineError(404, `No such terminal session: ${sessionId}. It may have exited; open a new terminal.`);
    return s;
  }
}
