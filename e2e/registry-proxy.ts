// A tiny HTTP proxy in front of a test registry, for the failures a real network has: a blob
// served with a wrong byte, a connection cut in the middle of a layer. It also counts blob
// requests (a joined pull downloads each layer once) and remembers their Range headers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type BlobFault =
  /** Flips one byte in the middle of the blob. */
  | { kind: 'corrupt' }
  /** Cuts the connection after `after` bytes, the first `times` requests of the blob. */
  | { kind: 'cut'; after: number; times: number };

export interface RegistryProxy {
  address: string;
  /** Faults by blob digest ("sha256:…"), changeable between requests. */
  faults: Map<string, BlobFault>;
  /** GETs of each blob, with the Range header each carried. */
  blobGets: Map<string, (string | undefined)[]>;
  close(): Promise<void>;
}

export async function startRegistryProxy(upstream: string): Promise<RegistryProxy> {
  const faults = new Map<string, BlobFault>();
  const blobGets = new Map<string, (string | undefined)[]>();
  const cuts = new Map<string, number>();
  const [upHost, upPort] = upstream.split(':');
  const server = http.createServer((req, res) => {
    const blob = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '')?.[1];
    if (blob && req.method === 'GET') blobGets.set(blob, [...(blobGets.get(blob) ?? []), req.headers.range]);
    const fault = blob && req.method === 'GET' ? faults.get(blob) : undefined;
    const headers = { ...req.headers };
    // The registry redirects nowhere here and answers on loopback; keep its Host as the client sent it.
    const upstreamReq = http.request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      let sent = 0;
      const total = Number(up.headers['content-length'] ?? 0);
      let cutThis = false;
      if (fault?.kind === 'cut' && (up.statusCode === 200 || up.statusCode === 206)) {
        const n = cuts.get(blob!) ?? 0;
        if (n < fault.times) {
          cuts.set(blob!, n + 1);
          cutThis = true;
        }
      }
      up.on('data', (chunk: Buffer) => {
        let out = chunk;
        if (fault?.kind === 'corrupt' && up.statusCode === 200) {
          const middle = Math.floor(total / 2);
          if (sent <= middle && middle < sent + chunk.length) {
            out = Buffer.from(chunk);
            out[middle - sent] = out[middle - sent]! ^ 0xff;
          }
        }
        if (cutThis && fault?.kind === 'cut' && sent + out.length > fault.after) {
          res.write(out.subarray(0, Math.max(0, fault.after - sent)));
          up.destroy();
          res.socket?.destroy();
          return;
        }
        sent += out.length;
        res.write(out);
      });
      up.on('end', () => res.end());
    });
    upstreamReq.on('error', () => res.destroy());
    req.pipe(upstreamReq);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    faults,
    blobGets,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
