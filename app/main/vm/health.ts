// Health is berthd's answer to GET /_ping through the host socket: the path the docker CLI uses.
import http from 'node:http';

export function ping(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve(res.statusCode === 200 && body === 'OK'));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Polls until berthd answers, `giveUp()` says the VM is gone, or the deadline passes. */
export async function waitForPing(socketPath: string, deadline: number, giveUp: () => string | undefined, intervalMs = 20): Promise<void> {
  for (;;) {
    const reason = giveUp();
    if (reason) throw new Error(reason);
    if (await ping(socketPath, 1000)) return;
    if (Date.now() > deadline) throw new Error('berthd did not answer /_ping in time');
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
