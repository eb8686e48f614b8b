// Terminals for one window: an exec with a tty (a new shell), or an attach to the container's
// main process. The hijacked connection carries keystrokes in and the screen out; resizes go to
// the exec's or the container's resize endpoint.
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Duplex } from 'node:stream';
import type { TerminalOpenOptions } from '../../shared/views.js';
import { EngineError } from '../engine/engine-error.js';
import { MultiplexedStreamDecoder } from '../engine/multiplexed-stream.js';
import type { Emit } from './broadcaster.js';
import type { EngineService } from './engine-service.js';

/** The first shell the image has, so a bash image gets bash and busybox gets sh. */
const DEFAULT_SHELL = ['/bin/sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi'];

interface Session {
  socket: Duplex;
  resize(cols: number, rows: number): Promise<void>;
}

export class TerminalsService {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly engine: EngineService, private readonly emit: Emit) {}

  /** Execs a shell (or `cmd`) with a tty in the container. */
  async open(options: TerminalOpenOptions): Promise<string> {
    const client = this.engine.client();
    const execId = await client.createExec(options.containerId, {
      Cmd: options.cmd?.length ? options.cmd : DEFAULT_SHELL,
      AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true,
      Env: ['TERM=xterm-256color'],
      ConsoleSize: [options.rows, options.cols],
    });
    const socket = await client.startExec(execId, true);
    const sessionId = this.track(socket, true, (cols, rows) => client.resizeExec(execId, cols, rows));
    // Older engines ignore ConsoleSize; an explicit resize makes the first screen the right size.
    client.resizeExec(execId, options.cols, options.rows).catch(() => undefined);
    return sessionId;
  }

  /**
   * Attaches to the container's main process. Its output is raw with a tty and multiplexed
   * without; closing the session detaches and leaves the container running.
   */
  async attach(options: { containerId: string; cols: number; rows: number }): Promise<string> {
    const client = this.engine.client();
    const inspect = await client.inspectContainer(options.containerId);
    if (!inspect.State?.Running) throw new EngineError(409, `Container ${options.containerId} is not running: start it to attach`);
    const tty = Boolean(inspect.Config?.Tty);
    const socket = await client.attachContainer(options.containerId, Boolean(inspect.Config?.OpenStdin));
    const sessionId = this.track(socket, tty, (cols, rows) => (tty ? client.resizeContainer(options.containerId, cols, rows) : Promise.resolve()));
    if (tty) client.resizeContainer(options.containerId, options.cols, options.rows).catch(() => undefined);
    return sessionId;
  }

  input(sessionId: string, data: string): void {
    this.session(sessionId).socket.write(data);
  }

  async resize(sessionId: string, cols: number, rows: number): Promise<void> {
    await this.session(sessionId).resize(cols, rows);
  }

  close(sessionId: string): void {
    this.sessions.get(sessionId)?.socket.destroy();
    this.sessions.delete(sessionId);
  }

  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id);
  }

  private track(socket: Duplex, raw: boolean, resize: Session['resize']): string {
    const sessionId = randomUUID();
    this.sessions.set(sessionId, { socket, resize });
    const text = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const demux = raw ? undefined : new MultiplexedStreamDecoder();
    const send = (data: string): void => {
      if (data) this.emit('terminals:data', { sessionId, data });
    };
    let ended = false;
    const end = (error?: string): void => {
      if (ended) return;
      ended = true;
      this.sessions.delete(sessionId);
      this.emit('terminals:exit', { sessionId, error });
    };
    socket.on('data', (chunk: Buffer) => {
      if (!demux) return send(text.stdout.write(chunk));
      try {
        // Without a tty there is no terminal to turn "\n" into "\r\n"; xterm needs both.
        for (const p of demux.push(chunk)) if (p.stream !== 'stdin') send(text[p.stream].write(p.data).replace(/\r?\n/g, '\r\n'));
      } catch (err) {
        end((err as Error).message);
        socket.destroy();
      }
    });
    socket.on('error', (err) => end(err.message));
    socket.on('close', () => end());
    socket.on('end', () => { end(); socket.destroy(); });
    return sessionId;
  }

  private session(sessionId: string): Session {
    const s = this.sessions.get(sessionId);
    if (!s) throw new EngineError(404, `No such terminal session: ${sessionId}. It may have exited; open a new terminal.`);
    return s;
  }
}
