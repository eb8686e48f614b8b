// Registries that ask who you are: htpasswd basic auth, bearer tokens from a token server (a small
// issuer written here, as Docker Hub's auth.docker.io works), and TLS with client certificates
// from certs.d. With the docker CLI: login (wrong password too), pull, push, logout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureFixtures, freePort, startRegistry, type Registry } from './fixtures/fixtures';
import { startBerthd, type Berthd } from './berthd';
import { startReferenceDockerd } from './reference';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    // The CLI must never wait for a prompt here.
    child.stdin?.end();
  });
}

const docker = (env: NodeJS.ProcessEnv, ...args: string[]) => run('docker', args, env);

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A token server as distribution's `auth: token` expects: RS256 JWTs with the cert in x5c. */
async function startTokenServer(key: string, certPem: string, users: Record<string, string>, service: string, issuer: string) {
  const x5c = new X509Certificate(certPem).raw.toString('base64');
  const refreshTokens = new Map<string, string>();
  const requests: { method: string; grant?: string; account?: string; scopes: string[] }[] = [];
  const issue = (account: string | undefined, scopes: string[]) => {
    const now = Math.floor(Date.now() / 1000);
    const access = account ? scopes.map((s) => {
      const [type, name, actions] = [s.split(':')[0]!, s.split(':').slice(1, -1).join(':'), s.split(':').at(-1)!];
      return { type, name, actions: actions.split(',').filter((a) => a === 'pull' || a === 'push') };
    }) : [];
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [x5c] }));
    const payload = b64url(JSON.stringify({ iss: issuer, sub: account ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const signer = createSign('RSA-SHA256');
    signer.update(`${header}.${payload}`);
    return `${header}.${payload}.${b64url(signer.sign(key))}`;
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST') {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(text);
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        requests.push({ method: 'POST', grant: form.get('grant_type') ?? undefined, scopes });
        const account = refreshTokens.get(form.get('refresh_token') ?? '');
        if (form.get('grant_type') !== 'refresh_token' || !account) return reply(401, { details: 'invalid refresh token' });
        reply(200, { access_token: issue(account, scopes), expires_in: 300 });
      });
      return;
    }
    const scopes = url.searchParams.getAll('scope');
    const auth = req.headers.authorization;
    let account: string | undefined;
    if (auth?.startsWith('Basic ')) {
      const [user, pass] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (users[user!] !== pass) {
        requests.push({ method: 'GET', account: user, scopes });
        return reply(401, { details: 'incorrect username or password' });
      }
      account = user;
    }
    requests.push({ method: 'GET', account, scopes });
    const body: Record<string, unknown> = { token: issue(account, scopes), expires_in: 300 };
    if (account && url.searchParams.get('offline_token') === 'true') {
      const refresh = randomBytes(16).toString('hex');
      refreshTokens.set(refresh, account);
      body.refresh_token = refresh;
    }
    reply(200, body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    realm: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('distribution: registries with authentication and TLS', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-dist-auth-'));
  const registries: Registry[] = [];
  const daemons: Berthd[] = [];
  let reference: { socket: string; env: NodeJS.ProcessEnv } | undefined;

  beforeAll(async () => {
    await ensureFixtures();
    // Certificates: a CA, the registry's server certificate for 127.0.0.1, a client certificate,
    // and the token issuer's self-signed signing certificate.
    const script = `set -e; cd ${dir}
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=berth-test-ca 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=berth-client 2>/dev/null
      printf 'extendedKeyUsage=clientAuth\\n' > client.ext
      openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.cert -days 2 -extfile client.ext 2>/dev/null
      openssl req -x509 -newkey rsa:2048 -nodes -keyout issuer.key -out issuer.crt -days 2 -subj /CN=berth-test-issuer 2>/dev/null
      htpasswd -Bbn alice s3cret > htpasswd`;
    const made = await run('bash', ['-c', script]);
    if (made.code !== 0) throw new Error(made.stderr);
    try {
      reference = startReferenceDockerd();
    } catch {
      reference = undefined;
    }
  });

  afterAll(async () => {
    for (const d of daemons) await d.stop();
    for (const r of registries) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('basic auth: wrong password, login, pull, push, logout as dockerd words them', async () => {
    const registry = await startRegistry(undefined, { images: ['busybox'], extraArgs: ['--htpasswd', path.join(dir, 'htpasswd'), '--creds', 'alice:s3cret'] });
    registries.push(registry);
    const R = registry.address;
    const berthd = await startBerthd();
    daemons.push(berthd);
    const env = berthd.env;

    const wrong = await docker(env, 'login', '-u', 'alice', '-p', 'nope', R);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain(`Error response from daemon: login attempt to http://${R}/v2/ failed with status: 401 Unauthorized`);
    const anonymous = await docker(env, 'pull', `${R}/busybox`);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr.trim()).toBe(`Error response from daemon: Head "http://${R}/v2/busybox/manifests/latest": no basic auth credentials`);
    if (reference) {
      const refEnv = { ...reference.env, DOCKER_CONFIG: path.join(dir, 'ref-config') };
      expect((await docker(refEnv, 'login', '-u', 'alice', '-p', 'nope', R)).stderr).toBe(wrong.stderr);
      expect((await docker(refEnv, 'pull', `${R}/busybox`)).stderr).toBe(anonymous.stderr);
    }

    const ok = await docker(env, 'login', '-u', 'alice', '-p', 's3cret', R);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Login Succeeded');
    expect((await docker(env, 'pull', `${R}/busybox`)).code).toBe(0);
    expect((await docker(env, 'tag', `${R}/busybox`, `${R}/mine:v1`)).code).toBe(0);
    const push = await docker(env, 'push', `${R}/mine:v1`);
    expect(push.stderr).toBe('');
    expect(push.stdout).toMatch(/v1: digest: sha256:[a-f0-9]{64} size: \d+/);

    const logout = await docker(env, 'logout', R);
    expect(logout.stdout).toContain(`Removing login credentials for ${R}`);
    expect((await docker(env, 'rmi', `${R}/mine:v1`, `${R}/busybox`)).code).toBe(0);
    const after = await docker(env, 'pull', `${R}/mine:v1`);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain('no basic auth credentials');
  });

  it('bearer tokens: login hands back an identity token, pulls and pushes exchange it, tokens are cached', async () => {
    const service = 'berth-test-registry';
    const issuer = 'berth-test-issuer';
    const tokens = await startTokenServer(readFileSync(path.join(dir, 'issuer.key'), 'utf8'), readFileSync(path.join(dir, 'issuer.crt'), 'utf8'), { alice: 's3cret' }, service, issuer);
    try {
      const registry = await startRegistry(undefined, {
        images: ['busybox'],
        extraArgs: ['--token', `${tokens.realm},${service},${issuer},${path.join(dir, 'issuer.crt')}`, '--creds', 'alice:s3cret'],
      });
      registries.push(registry);
      const R = registry.address;
      const berthd = await startBerthd();
      daemons.push(berthd);
      const env = berthd.env;

      const wrong = await docker(env, 'login', '-u', 'alice', '-p', 'nope', R);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toContain('unauthorized: incorrect username or password');
      const anonymous = await docker(env, 'pull', `${R}/busybox`);
      expect(anonymous.code).not.toBe(0);
      expect(anonymous.stderr).toContain('unauthorized');

      const ok = await docker(env, 'login', '-u', 'alice', '-p', 's3cret', R);
      expect(ok.stdout).toContain('Login Succeeded');
      const config = JSON.parse(readFileSync(path.join(env.DOCKER_CONFIG!, 'config.json'), 'utf8')) as { auths: Record<string, { identitytoken?: string }> };
      expect(config.auths[R]?.identitytoken).toMatch(/^[a-f0-9]{32}$/);

      const before = tokens.requests.length;
      const pull = await docker(env, 'pull', `${R}/busybox`);
      expect(pull.stderr).toBe('');
      expect(tokens.requests.slice(before)).toContainEqual({ method: 'POST', grant: 'refresh_token', scopes: ['repository:busybox:pull'] });
      // The same scope again: the cached token serves.
      const cached = tokens.requests.length;
      expect((await docker(env, 'pull', `${R}/busybox`)).stdout).toContain('Image is up to date');
      expect(tokens.requests.length).toBe(cached);

      expect((await docker(env, 'tag', `${R}/busybox`, `${R}/team/app:1`)).code).toBe(0);
      const push = await docker(env, 'push', `${R}/team/app:1`);
      expect(push.stderr).toBe('');
      expect(push.stdout).toMatch(/Mounted from busybox/);
      expect(tokens.requests).toContainEqual(expect.objectContaining({ method: 'POST', scopes: expect.arrayContaining(['repository:team/app:pull,push']) }));
      expect((await docker(env, 'logout', R)).code).toBe(0);
    } finally {
      await tokens.close();
    }
  });

  it('TLS: the CA and client certificate of certs.d/HOST:PORT reach a registry that requires them', async () => {
    const skopeoCerts = path.join(dir, 'skopeo-certs');
    mkdirSync(skopeoCerts, { recursive: true });
    copyFileSync(path.join(dir, 'client.cert'), path.join(skopeoCerts, 'client.cert'));
    copyFileSync(path.join(dir, 'client.key'), path.join(skopeoCerts, 'client.key'));
    const port = await freePort();
    const registry = await startRegistry(port, {
      images: ['busybox'],
      extraArgs: ['--tls', `${path.join(dir, 'server.crt')},${path.join(dir, 'server.key')},${path.join(dir, 'ca.crt')}`, '--cert-dir', skopeoCerts],
    });
    registries.push(registry);
    const R = registry.address;

    const certsD = path.join(dir, 'certs.d');
    mkdirSync(path.join(certsD, R), { recursive: true });
    for (const f of ['ca.crt', 'client.cert', 'client.key']) copyFileSync(path.join(dir, f), path.join(certsD, R, f));
    process.env.BERTH_CERTS_D = certsD;
    const berthd = await startBerthd();
    daemons.push(berthd);
    const pulled = await docker(berthd.env, 'pull', `${R}/busybox`);
    expect(pulled.stderr).toBe('');
    expect(pulled.stdout).toContain(`Status: Downloaded newer image for ${R}/busybox:latest`);

    // Without the client certificate the registry refuses the handshake and the pull fails.
    process.env.BERTH_CERTS_D = path.join(dir, 'empty-certs.d');
    const bare = await startBerthd();
    daemons.push(bare);
    delete process.env.BERTH_CERTS_D;
    const refused = await docker(bare.env, 'pull', `${R}/busybox`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Error response from daemon: Get "https?:\/\/127\.0\.0\.1:\d+\/v2\/"/);
  });
});
