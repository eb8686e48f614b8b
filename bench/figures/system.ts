// The foundation's figures: API round trips and berthd's idle memory.
import http from 'node:http';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { medianMs, type Figure } from '../harness';

const run = promisify(execFile);

function headPing(agent: http.Agent, socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'HEAD', path: '/_ping', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

async function pingMs(socket: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    return await medianMs(() => headPing(agent, socket), 500, 50);
  } finally {
    agent.destroy();
  }
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function pidsOf(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // The process went away while we looked.
    }
  }
  return pids;
}

export const systemFigures: Figure[] = [
  {
    name: 'HEAD /_ping round trip',
    unit: 'ms',
    better: 'lower',
    async measure({ berthd, reference }) {
      return { berth: await pingMs(berthd.socket), baseline: reference ? await pingMs(reference.socket) : undefined };
    },
  },
  {
    name: '`docker version` round trip',
    unit: 'ms',
    better: 'lower',
    async measure({ berthd, reference }) {
      const once = (env: NodeJS.ProcessEnv) => () => run('docker', ['version'], { env });
      return { berth: await medianMs(once(berthd.env), 15, 2), baseline: reference ? await medianMs(once(reference.env), 15, 2) : undefined };
    },
  },
  {
    name: 'idle RSS',
    unit: 'MiB',
    better: 'lower',
    goal: 0.5,
    async measure({ berthd, reference }) {
      await new Promise((r) => setTimeout(r, 1000));
      const berth = rssMiB(berthd.process.pid!);
      // dockerd's figure includes the containerd it needs to run anything.
      const baseline = reference ? [...pidsOf('dockerd'), ...pidsOf('containerd')].reduce((sum, pid) => sum + rssMiB(pid), 0) : undefined;
      return { berth, baseline, baselineName: 'dockerd + containerd' };
    },
  },
];
