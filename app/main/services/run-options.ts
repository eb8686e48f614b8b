// The Run dialog's options as a POST /containers/create body, the way `docker run` builds it.
import type { RunOptions } from '../../shared/views.js';
import type { ContainerCreateBody } from '../engine/engine-client.js';

export function createBody(o: RunOptions): ContainerCreateBody {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of o.ports ?? []) {
    const key = `${p.containerPort}/${p.protocol}`;
    exposed[key] = {};
    // Host port 0 lets the engine pick a free one, as `-p 80` does.
    (bindings[key] ??= []).push({ HostIp: '', HostPort: p.hostPort ? String(p.hostPort) : '' });
  }
  const binds: string[] = [];
  for (const v of o.volumes ?? []) binds.push(v);
  return {
    Image: o.image,
    Cmd: o.cmd?.length ? o.cmd : undefined,
    Env: o.env?.length ? o.env : undefined,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    HostConfig: {
      PortBindings: Object.keys(bindings).length ? bindings : undefined,
      Binds: binds.length ? binds : undefined,
      RestartPolicy: o.restart && o.restart !== 'no' ? { Name: o.restart } : undefined,
    },
  };
}
