// Registry authentication: the client's credentials (the X-Registry-Auth header), the registry's
// challenges (`WWW-Authenticate: Bearer realm=…,service=…,scope=…` or `Basic`), and bearer tokens
// fetched from the realm and cached per scope until they expire. Identity (refresh) tokens are
// exchanged with the OAuth POST; a username and password with the GET dockerd uses.
import { createHash } from 'node:crypto';
import { invalidParameter, unauthorized, EngineError } from '../errors';
import { send, readBody } from './transport';

/** The Engine API's AuthConfig, as the docker CLI sends it base64url-encoded in X-Registry-Auth. */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** Decodes X-Registry-Auth; an absent or empty header is anonymous. */
export function decodeAuthHeader(header: string | string[] | undefined): AuthConfig {
  const raw = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    throw invalidParameter('invalid X-Registry-Auth header: the value must be base64url-encoded JSON');
  }
  if (!parsed || typeof parsed !== 'object') return {};
  return normalizeAuth(parsed as AuthConfig);
}

/** Fills username and password from the `auth` field (base64 of user:password) when absent. */
export function normalizeAuth(config: AuthConfig): AuthConfig {
  const out: AuthConfig = { ...config };
  if (out.auth && !out.username && !out.password) {
    const decoded = Buffer.from(out.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      out.username = decoded.slice(0, colon);
      out.password = decoded.slice(colon + 1);
    }
  }
  return out;
}

export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** Parses WWW-Authenticate: one or more `Scheme k="v", k2=v2` challenges. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const value of Array.isArray(header) ? header : header ? [header] : []) {
    const re = /\s*([A-Za-z]+)\s+((?:[A-Za-z0-9_-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?\s*)*)/gy;
    let m: RegExpExecArray | null;
    while ((m = re.exec(value)) !== null && m[0] !== '') {
      const scheme = m[1]!.toLowerCase();
      const params: Record<string, string> = {};
      const pr = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
      let p: RegExpExecArray | null;
      while ((p = pr.exec(m[2]!)) !== null) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
      if (scheme === 'bearer' || scheme === 'basic') out.push({ scheme, params });
    }
  }
  return out;
}

/** A registry's error document (`{"errors":[{"code","message","detail"}]}`) as dockerd prints it. */
export function registryErrorMessage(body: Buffer, status: number): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[]; details?: string; error?: string };
    const errors = doc.errors ?? [];
    const parts = errors.map((e) => {
      const code = (e.code ?? 'UNKNOWN').toLowerCase().replace(/_/g, ' ');
      return e.message ? `${code}: ${e.message}` : code;
    });
    if (parts.length === 1) return parts[0]!;
    if (parts.length > 1) return `errors:\n${parts.join('\n')}\n`;
    if (doc.details) return doc.details;
    if (doc.error) return doc.error;
  } catch {
    // Not JSON: fall through to the status line.
  }
  const text = body.toString('utf8').trim();
  return status === 401 ? 'unauthorized: authentication required' : text.length > 0 && text.length < 200 ? text : `received unexpected HTTP status: ${status}`;
}

/**
 * Maps a registry status to the engine's: a 404 stays, the rest is a 500 worded by the registry.
 * A registry's 401 is not the client's 401 (which would make the docker CLI ask for a login to
 * berthd): dockerd answers pulls and pushes refused by the registry with a 500 too.
 */
export function registryError(status: number, message: string): EngineError {
  return new EngineError(status === 404 ? 404 : 500, message);
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Tokens by realm, service, scopes and identity; shared by every pull and push of the daemon. */
const tokenCache = new Map<string, CachedToken>();
/** Refresh tokens a token server handed out (login with offline_token), by realm and user. */
const refreshTokens = new Map<string, string>();

export function clearTokenCache(): void {
  tokenCache.clear();
  refreshTokens.clear();
}

const MIN_TOKEN_LIFETIME_S = 60;

/**
 * The authorisation of one client towards one registry: its credentials and the challenge it
 * learned. `header(scopes)` gives what to put in Authorization for a request needing `scopes`.
 */
export class Authorizer {
  private challenge?: Challenge;

  constructor(readonly credentials: AuthConfig, readonly registry: string) {}

  get hasCredentials(): boolean {
    return Boolean(this.credentials.username || this.credentials.identitytoken || this.credentials.registrytoken);
  }

  /** Learns the scheme from a 401's WWW-Authenticate (bearer preferred when both are offered). */
  learn(header: string | string[] | undefined): boolean {
    const challenges = parseChallenges(header);
    const chosen = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) return false;
    this.challenge = chosen;
    return true;
  }

  get scheme(): Challenge['scheme'] | undefined {
    return this.challenge?.scheme;
  }

  /** The Authorization header for `scopes`, or undefined when none is needed (or known yet). */
  async header(scopes: string[], signal?: AbortSignal, options: { offline?: boolean } = {}): Promise<string | undefined> {
    if (this.credentials.registrytoken) return `Bearer ${this.credentials.registrytoken}`;
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') {
      const { username, password } = this.credentials;
      return username ? `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` : undefined;
    }
    return `Bearer ${await this.token(c.params, scopes, signal, options.offline ?? false)}`;
  }

  /** The refresh token the token server gave on the last offline fetch (docker login's IdentityToken). */
  identityToken(): string | undefined {
    const realm = this.challenge?.params.realm;
    return realm ? refreshTokens.get(`${realm}\0${this.credentials.username ?? ''}`) : undefined;
  }

  private async token(params: Record<string, string>, scopes: string[], signal: AbortSignal | undefined, offline: boolean): Promise<string> {
    const realm = params.realm;
    if (!realm) throw unauthorized(`the registry ${this.registry} asked for a bearer token without naming a realm`);
    const service = params.service ?? '';
    const all = [...new Set([...scopes, ...(params.scope ? params.scope.split(' ') : [])])].sort();
    const who = this.credentials.identitytoken
      ? `t:${createHash('sha256').update(this.credentials.identitytoken).digest('hex')}`
      : `u:${this.credentials.username ?? ''}:${createHash('sha256').update(this.credentials.password ?? '').digest('hex')}`;
    const key = [realm, service, all.join(' '), who].join('\0');
    const cached = tokenCache.get(key);
    if (!offline && cached && cached.expiresAt > Date.now()) return cached.token;
    const fetched = await this.fetchToken(realm, service, all, signal, offline);
    tokenCache.set(key, { token: fetched.token, expiresAt: Date.now() + fetched.lifetime * 1000 - 5000 });
    return fetched.token;
  }

  private async fetchToken(realm: string, service: string, scopes: string[], signal: AbortSignal | undefined, offline: boolean): Promise<{ token: string; lifetime: number }> {
    const { username, password, identitytoken } = this.credentials;
    let res;
    if (identitytoken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: identitytoken, service, client_id: 'docker', access_type: 'offline' });
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      res = await send(undefined, realm, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
        signal,
      });
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (username) {
        url.searchParams.set('account', username);
        headers.Authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
        if (offline) {
          url.searchParams.set('offline_token', 'true');
          url.searchParams.set('client_id', 'docker');
        }
      }
      res = await send(undefined, url.toString(), { method: 'GET', headers, signal });
    }
    const body = await readBody(res, 1024 * 1024);
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      const why = registryErrorMessage(body, status);
      if (status === 401) throw unauthorized(why.startsWith('unauthorized') ? why : `unauthorized: ${why}`);
      throw registryError(status, `getting a token from ${realm}: ${why}`);
    }
    let doc: { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      throw unauthorized(`the token server ${realm} answered with something that is not JSON`);
    }
    const token = doc.access_token ?? doc.token;
    if (!token) throw unauthorized(`the token server ${realm} answered without a token`);
    if (doc.refresh_token) refreshTokens.set(`${realm}\0${username ?? ''}`, doc.refresh_token);
    return { token, lifetime: Math.max(doc.expires_in ?? 0, MIN_TOKEN_LIFETIME_S) };
  }
}

/** The scope string a registry token grants: repository:library/busybox:pull,push. */
export function repositoryScope(path: string, actions: ('pull' | 'push')[]): string {
  return `repository:${path}:${actions.join(',')}`;
}

