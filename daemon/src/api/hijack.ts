// Connection hijacking for attach and exec: the client sends `Connection: Upgrade` and
// `Upgrade: tcp`; we answer `101 UPGRADED` and the socket becomes a raw byte stream both ways.
// A client that does not ask to upgrade gets a plain 200 response whose body is the output stream
// (dockerode's non-hijacked attach), and no input.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface HijackedStream {
  /** Bytes from the client (stdin): the upgraded socket's readable side. */
  input: NodeJS.ReadableStream | null;
  /** Bytes to the client. */
  output: NodeJS.WritableStream;
  /** Closes the connection in both directions. */
  close(): void;
  /** Ends the output and keeps reading input until the client closes (half-close). */
  closeWrite(): void;
  /** The underlying socket or response, for 'close' events. */
  readonly closed: Promise<void>;
}

export function hijack(
  _req: IncomingMessage,
  res: ServerResponse,
  contentType: string,
  upgrade?: { socket: Duplex; head: Buffer },
): HijackedStream {
  if (upgrade) {
    const { socket, head } = upgrade;
    res.detachSocket(socket as never);
    // Hold the client's bytes until the handler pipes them somewhere; a flowing socket without a
    // 'data' listener would drop what the client types before the stream is wired.
    socket.pause();
    // A client that goes away mid-stream makes writes fail with EPIPE/ECONNRESET; without a
    // listener that error would crash berthd. 'close' tells the handler the stream is over.
    socket.on('error', () => socket.destroy());
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    if (head.length > 0) socket.unshift(head);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    return {
      input: socket,
      output: socket,
      close: () => socket.destroy(),
      closeWrite: () => socket.end(),
      closed,
    };
  }
  res.writeHead(200, { 'Content-Type': contentType });
  res.flushHeaders();
  const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
  return {
    input: null,
    output: res,
    close: () => res.destroy(),
    closeWrite: () => res.end(),
    closed,
  };
}
