// POST /auth: checks credentials against a registry as `docker login` expects. A registry that
// asks for nothing accepts anyone; Basic is checked with GET /v2/; a bearer realm is asked for a
// token (with offline access, so it may hand back a refresh token: the IdentityToken).
import { RegistrySession } from './registry-client';
import { readBody, send } from './transport';
import { registryErrorMessage, type AuthConfig } from './auth';
import type { RegistryHosts } from './hosts';
import { DEFAULT_DOMAIN } from '../graph/reference';
import { unauthorized, EngineError } from '../errors';

export interface LoginResult {
  Status: string;
  IdentityToken?: string;
}

/** The registry a login's server address names: Docker Hub's index URL is docker.io. */
export function loginRegistry(serverAddress: string | undefined): string {
  const raw = (serverAddress ?? '').trim();
  if (raw === '' || /^(https?:\/\/)?(index\.)?docker\.io(\/v1\/?)?\/?$/.test(raw) || raw === 'registry-1.docker.io') return DEFAULT_DOMAIN;
  return raw.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

export async function login(hosts: RegistryHosts, credentials: AuthConfig, signal?: AbortSignal): Promise<LoginResult> {
  const registry = loginRegistry(credentials.serveraddress);
  const session = await RegistrySession.open({ hosts, registry, path: '', credentials, purpose: 'login', signal });
  const url = `${session.endpoint.origin}/v2/`;
  if (!session.auth.scheme) return { IdentityToken: '', Status: 'Login Succeeded' };
  let authorization: string | undefined;
  try {
    authorization = await session.auth.header([], signal, { offline: true });
  } catch (err) {
    if (err instanceof EngineError && err.status === 401) throw unauthorized(`Get "${url}": ${err.message}`);
    throw err;
  }
  const res = await send(session.endpoint, url, { method: 'GET', headers: authorization ? { Authorization: authorization } : {}, signal });
  const body = await readBody(res, 1024 * 1024);
  if (res.statusCode === 200) {
    return { IdentityToken: session.auth.identityToken() ?? '', Status: 'Login Succeeded' };
  }
  if (res.statusCode === 401) {
    if (session.auth.scheme === 'basic') throw unauthorized(`login attempt to ${url} failed with status: 401 Unauthorized`);
    throw unauthorized(`Get "${url}": ${registryErrorMessage(body, 401)}`);
  }
  throw new EngineError(500, `login attempt to ${url} failed with status: ${res.statusCode} ${res.statusMessage ?? ''}`.trim());
}
