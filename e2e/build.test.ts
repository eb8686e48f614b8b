// docker build and docker commit end to end: the real docker CLI (classic builder, and its
// default, which falls back to the classic builder here) against a berthd on temporary roots,
// with the busybox fixture as the base image; the reference dockerd builds the same Dockerfile
// for a side-by-side comparison of the resulting configs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pack as tarPack } from 'tar-stream';
import { startBerthd, type Berthd } from './berthd';
import { startReferenceDockerd } from './reference';
import { ensureFixtures, startRegistry, type Registry } from './fixtures/fixtures';

const run = promisify(execFile);
type Env = { env: NodeJS.ProcessEnv };
const classic = (b: Env) => ({ ...b.env, DOCKER_BUILDKIT: '0' });
const docker = (b: Env, ...args: string[]) => run('docker', args, { env: classic(b), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
async function dockerFails(b: Env, ...args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  try {
    await docker(b, ...args);
  } catch (err) {
    const e = err as { code: number; stderr: string; stdout: string };
    return { code: e.code, stderr: e.stderr, stdout: e.stdout };
  }
  throw new Error(`docker ${args.join(' ')} succeeded but should have failed`);
}

function api(socket: string, method: string, p: string, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p, headers: body ? { 'Content-Type': 'application/x-tar' } : {} }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => p.on('end', r));
  for (const [name, content] of Object.entries(files)) p.entry({ name, mode: 0o644 }, content);
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

let berthd: Berthd;
let work: string;
/** Short, so the shim's socket paths under it fit in a unix socket address (107 bytes). */
let execRoot: string;

/** A context directory with these files. */
function context(name: string, files: Record<string, string>): string {
  const dir = path.join(work, name);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

const ALL_INSTRUCTIONS = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE
ARG GREETING=hello
ENV APP_HOME=/app \\
    MODE="two words"
LABEL org.example.title="berth test" version=\${GREETING}
WORKDIR $APP_HOME
COPY app.txt ./
COPY --chown=1000:1000 conf/ /etc/app/
ADD archive.tar /opt/
ADD plain.txt /opt/plain.txt
RUN ["/bin/sh", "-c", "echo exec-form > /app/exec.txt"]
RUN echo "$GREETING from \${MODE}" > /app/run.txt && chmod 604 /app/run.txt
EXPOSE 8080 53/udp
VOLUME ["/data"]
USER 1000:1000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --retries=2 CMD ["true"]
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo triggered
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/app.txt /app/run.txt /app/exec.txt /opt/inner.txt /opt/plain.txt"]
`;

beforeAll(async () => {
  const fixtures = await ensureFixtures();
  work = mkdtempSync(path.join(tmpdir(), 'berth-build-'));
  execRoot = mkdtempSync('/tmp/bx-');
  berthd = await startBerthd({ execRoot });
  await docker(berthd, 'load', '-i', fixtures.busybox.dockerArchive);
});

afterAll(async () => {
  // A failed test may leave a container running; its mounts must go before the roots do.
  if (berthd) {
    const ids = (await docker(berthd, 'ps', '-aq').catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await docker(berthd, 'rm', '-f', ...ids).catch(() => undefined);
  }
  try {
    await berthd?.stop();
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
    if (execRoot) rmSync(execRoot, { recursive: true, force: true });
  }
});

async function noLeftovers(): Promise<void> {
  expect((await docker(berthd, 'ps', '-aq')).stdout.trim()).toBe('');
  const contexts = path.join(berthd.dataRoot, 'builder', 'contexts');
  expect(existsSync(contexts) ? readdirSync(contexts) : []).toEqual([]);
}

describe('docker build (classic builder)', () => {
  let allDir: string;
  beforeAll(async () => {
    const archiveDir = context('archive-src', { 'inner.txt': 'from the archive\n' });
    allDir = context('all', { Dockerfile: ALL_INSTRUCTIONS, 'app.txt': 'app\n', 'conf/app.conf': 'k=v\n', 'plain.txt': 'plain\n' });
    await run('tar', ['-C', archiveDir, '-czf', path.join(allDir, 'archive.tar'), 'inner.txt']);
  });

  it('builds a Dockerfile with every instruction, and the image runs with what it set', async () => {
    const { stdout } = await docker(berthd, 'build', '-t', 'all:1', '-t', 'all:2', allDir);
    expect(stdout).toMatch(/^Step 1\/21 : ARG BASE=busybox$/m);
    expect(stdout).toMatch(/^ ---> Running in [0-9a-f]{12}$/m);
    expect(stdout).toMatch(/^Removing intermediate container [0-9a-f]{12}$/m);
    expect(stdout).toMatch(/^Successfully built [0-9a-f]{12}$/m);
    expect(stdout).toMatch(/^Successfully tagged all:1$/m);
    expect(stdout).toMatch(/^Successfully tagged all:2$/m);

    const out = (await docker(berthd, 'run', '--rm', 'all:1')).stdout;
    expect(out).toBe('app\nhello from two words\nexec-form\nfrom the archive\nplain\n');

    const config = JSON.parse((await docker(berthd, 'image', 'inspect', 'all:1', '--format', '{{json .Config}}')).stdout);
    expect(config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP_HOME=/app', 'MODE=two words']);
    expect(config.WorkingDir).toBe('/app');
    expect(config.User).toBe('1000:1000');
    expect(config.ExposedPorts).toEqual({ '8080/tcp': {}, '53/udp': {} });
    expect(config.Volumes).toEqual({ '/data': {} });
    expect(config.Labels).toEqual({ 'org.example.title': 'berth test', version: 'hello' });
    expect(config.StopSignal).toBe('SIGTERM');
    expect(config.Healthcheck).toEqual({ Test: ['CMD', 'true'], Interval: 30e9, Timeout: 3e9, Retries: 2 });
    expect(config.Shell).toEqual(['/bin/sh', '-ec']);
    expect(config.OnBuild).toEqual(['RUN echo triggered']);
    expect(config.Entrypoint).toEqual(['/bin/sh', '-c']);
    expect(config.Cmd).toEqual(['cat /app/app.txt /app/run.txt /app/exec.txt /opt/inner.txt /opt/plain.txt']);

    // COPY --chown and RUN's chmod are in the image.
    const owners = (await docker(berthd, 'run', '--rm', '--user', '0', '--entrypoint', 'stat', 'all:1', '-c', '%u:%g %a %n', '/etc/app/app.conf', '/app/run.txt', '/app/app.txt')).stdout;
    expect(owners).toBe('1000:1000 644 /etc/app/app.conf\n0:0 604 /app/run.txt\n0:0 644 /app/app.txt\n');

    const history = (await docker(berthd, 'history', '--no-trunc', '--format', '{{.CreatedBy}}', 'all:1')).stdout;
    expect(history).toContain('/bin/sh -c #(nop)  ENV APP_HOME=/app MODE=two words');
    expect(history).toContain('|1 GREETING=hello /bin/sh -c echo "$GREETING from ${MODE}" > /app/run.txt && chmod 604 /app/run.txt');
    expect(history).toMatch(/#\(nop\) COPY file:[0-9a-f]{64} in \.\/ /);
    expect(history).toContain('/bin/sh -ec #(nop)  CMD ["cat /app/app.txt /app/run.txt /app/exec.txt /opt/inner.txt /opt/plain.txt"]');
    await noLeftovers();
  });

  it('runs ONBUILD triggers of the base image', async () => {
    const dir = context('onbuild', { Dockerfile: 'FROM all:1\nUSER 0\nLABEL child=yes\n' });
    const { stdout } = await docker(berthd, 'build', '-t', 'child', dir);
    expect(stdout).toContain('# Executing 1 build trigger');
    expect(stdout).toMatch(/^triggered$/m);
    const onbuild = (await docker(berthd, 'image', 'inspect', 'child', '--format', '{{json .Config.OnBuild}}')).stdout.trim();
    expect(onbuild).toBe('null');
  });

  it('rebuilds an unchanged context from the cache, and a changed file invalidates from its step on', async () => {
    const again = (await docker(berthd, 'build', '-t', 'all:1', allDir)).stdout;
    const steps = again.split(/^Step /m).slice(1);
    // Every step after FROM (and the meta ARG) comes from the cache; nothing runs.
    expect(again).not.toContain('Running in');
    expect(steps.filter((s) => s.includes('Using cache')).length).toBe(19);

    writeFileSync(path.join(allDir, 'conf/app.conf'), 'k=changed\n');
    const changed = (await docker(berthd, 'build', allDir)).stdout.split(/^Step /m).slice(1);
    const cached = changed.map((s) => s.includes('Using cache'));
    const confStep = changed.findIndex((s) => s.startsWith('8/21 : COPY --chown=1000:1000 conf/'));
    expect(confStep).toBe(7);
    expect(cached.slice(2, confStep)).toEqual(Array(confStep - 2).fill(true));
    expect(cached.slice(confStep)).toEqual(Array(changed.length - confStep).fill(false));
  });

  it('does no cache lookups with --no-cache', async () => {
    const { stdout } = await docker(berthd, 'build', '--no-cache', allDir);
    expect(stdout).not.toContain('Using cache');
    expect(stdout).toContain('Running in');
  });

  it('builds multi-stage Dockerfiles, copies from earlier stages, and stops at --target', async () => {
    const dir = context('stages', {
      Dockerfile: 'FROM busybox AS build\nRUN echo built > /artifact\nFROM build AS test\nRUN echo tested > /tested\nFROM busybox\nCOPY --from=build /artifact /artifact\nCOPY --from=0 /artifact /again\nCMD ["cat", "/artifact", "/again"]\n',
    });
    await docker(berthd, 'build', '-t', 'stages:final', dir);
    expect((await docker(berthd, 'run', '--rm', 'stages:final')).stdout).toBe('built\nbuilt\n');
    expect((await dockerFails(berthd, 'run', '--rm', 'stages:final', 'cat', '/tested')).stderr).toContain("can't open '/tested'");

    const target = (await docker(berthd, 'build', '--target', 'test', '-t', 'stages:test', dir)).stdout;
    expect(target).toMatch(/^Step 4\/4 : RUN echo tested > \/tested$/m);
    expect((await docker(berthd, 'run', '--rm', 'stages:test', 'cat', '/artifact', '/tested')).stdout).toBe('built\ntested\n');
    expect((await dockerFails(berthd, 'build', '--target', 'nope', dir)).stderr).toContain('failed to reach build target nope in Dockerfile');
  });

  it('passes --build-arg to ARGs and warns about the ones no ARG declares', async () => {
    const dir = context('args', { Dockerfile: 'ARG TAG=latest\nFROM busybox:$TAG\nARG WHO=nobody\nRUN echo "hi $WHO" > /who\nENV SEEN=$WHO\nCMD ["cat", "/who"]\n' });
    const { stdout } = await docker(berthd, 'build', '--build-arg', 'WHO=berth', '--build-arg', 'UNUSED=1', '-t', 'args', dir);
    expect(stdout).toContain('[Warning] One or more build-args [UNUSED] were not consumed');
    expect((await docker(berthd, 'run', '--rm', 'args')).stdout).toBe('hi berth\n');
    expect((await docker(berthd, 'image', 'inspect', 'args', '--format', '{{json .Config.Env}}')).stdout).toContain('"SEEN=berth"');
    // A different value is a different step: no cache hit for the RUN.
    const other = (await docker(berthd, 'build', '--build-arg', 'WHO=other', dir)).stdout;
    expect(other.split(/^Step /m).find((s) => s.startsWith('4/6'))).not.toContain('Using cache');
  });

  it('leaves out what .dockerignore excludes, in the CLI and in berthd for raw API clients', async () => {
    const dir = context('ignore', {
      Dockerfile: 'FROM busybox\nCOPY . /ctx\nCMD ["find", "/ctx", "-type", "f"]\n',
      '.dockerignore': 'secrets\n*.log\n!keep.log\n',
      'secrets/key': 'k', 'a.log': 'x', 'keep.log': 'y', 'src/main.c': 'z',
    });
    await docker(berthd, 'build', '-t', 'ignore', dir);
    const files = (await docker(berthd, 'run', '--rm', 'ignore')).stdout.split('\n').filter(Boolean).sort();
    expect(files).toEqual(['/ctx/.dockerignore', '/ctx/Dockerfile', '/ctx/keep.log', '/ctx/src/main.c']);

    const tar = await tarOf({ Dockerfile: 'FROM busybox\nCOPY . /ctx\n', '.dockerignore': 'secrets\n*.log\n!keep.log\n.dockerignore\n', 'secrets/key': 'k', 'a.log': 'x', 'keep.log': 'y' });
    const res = await api(berthd.socket, 'POST', '/build?t=ignore-api', tar);
    expect(res.status).toBe(200);
    expect(res.body).toContain('Successfully tagged ignore-api:latest');
    const apiFiles = (await docker(berthd, 'run', '--rm', 'ignore-api', 'find', '/ctx', '-type', 'f')).stdout.split('\n').filter(Boolean).sort();
    expect(apiFiles).toEqual(['/ctx/Dockerfile', '/ctx/keep.log']);
  });

  it('reports a failing RUN with its exit code and leaves no container behind', async () => {
    const dir = context('fail', { Dockerfile: 'FROM busybox\nRUN echo before\nRUN exit 3\nRUN echo never\n' });
    const failed = await dockerFails(berthd, 'build', '-t', 'never', dir);
    expect(failed.code).toBe(3);
    expect(failed.stderr + failed.stdout).toContain("The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    expect(failed.stdout).not.toContain('never');
    await dockerFails(berthd, 'image', 'inspect', 'never');
    // Quiet builds show their log only when they fail, and fail the same way.
    const quiet = await dockerFails(berthd, 'build', '-q', '--no-cache', dir);
    expect(quiet.code).toBe(3);
    expect(quiet.stderr + quiet.stdout).toMatch(/^before$/m);
    await noLeftovers();
  });

  it('keeps the step containers with --rm=false, and removes failed ones only with --force-rm', async () => {
    const dir = context('keep', { Dockerfile: 'FROM busybox\nRUN echo kept > /k\n' });
    await docker(berthd, 'build', '--no-cache', '--rm=false', dir);
    const kept = (await docker(berthd, 'ps', '-aq')).stdout.split('\n').filter(Boolean);
    expect(kept.length).toBe(1);
    await docker(berthd, 'rm', ...kept);
    const failing = context('force-rm', { Dockerfile: 'FROM busybox\nRUN exit 5\n' });
    expect((await dockerFails(berthd, 'build', '--force-rm', failing)).code).toBe(5);
    await noLeftovers();
  });

  it('words Dockerfile mistakes as dockerd does', async () => {
    const unknown = context('unknown', { Dockerfile: 'FROM busybox\nRUN true\nFOO bar\n' });
    expect((await dockerFails(berthd, 'build', unknown)).stderr).toContain('dockerfile parse error line 3: unknown instruction: FOO');
    // Heredocs are BuildKit's: the classic builder reads the body as instructions.
    const heredoc = context('heredoc', { Dockerfile: 'FROM busybox\nRUN <<EOF\necho hi\nEOF\n' });
    expect((await dockerFails(berthd, 'build', heredoc)).stderr).toContain('dockerfile parse error line 3: unknown instruction: ECHO');
    const missing = context('missing', { Dockerfile: 'FROM busybox\nCOPY nope /x\n' });
    const copyFailed = await dockerFails(berthd, 'build', missing);
    expect(copyFailed.stderr + copyFailed.stdout).toContain('COPY failed: file not found in build context or excluded by .dockerignore: stat nope: file does not exist');
  });

  it('applies --label, and --add-host and --network to RUN steps', async () => {
    const dir = context('options', { Dockerfile: 'FROM busybox\nRUN grep foo /etc/hosts > /hosts && ip -o link | wc -l > /links\nLABEL inner=1\n' });
    const iid = path.join(dir, 'iid');
    await docker(berthd, 'build', '--label', 'outer=2', '--add-host', 'foo:10.1.2.3', '--network', 'none', '--iidfile', iid, '-t', 'options', dir);
    expect(JSON.parse((await docker(berthd, 'image', 'inspect', 'options', '--format', '{{json .Config.Labels}}')).stdout)).toEqual({ inner: '1', outer: '2' });
    expect((await docker(berthd, 'run', '--rm', 'options', 'cat', '/hosts', '/links')).stdout).toBe('10.1.2.3\tfoo\n1\n');
    expect(readFileSync(iid, 'utf8')).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('downloads ADD URLs, copies them as they are, and rebuilds from the cache only while their content stays', async () => {
    let body = 'remote one\n';
    const archive = await tarOf({ 'inner.txt': 'x' });
    const server = http.createServer((req, res) => {
      if (req.url === '/data.txt') res.end(body);
      else if (req.url === '/pkg.tar') res.end(archive);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const dir = context('remote', { Dockerfile: `FROM busybox\nADD http://127.0.0.1:${port}/data.txt /d/\nADD http://127.0.0.1:${port}/pkg.tar /r/\n` });
      await docker(berthd, 'build', '-t', 'remote', dir);
      expect((await docker(berthd, 'run', '--rm', 'remote', 'sh', '-c', 'cat /d/data.txt; stat -c %a /d/data.txt; ls /r')).stdout).toBe('remote one\n600\npkg.tar\n');
      expect((await docker(berthd, 'build', dir)).stdout.match(/Using cache/g)?.length).toBe(2);
      body = 'remote two\n';
      const changed = (await docker(berthd, 'build', '-t', 'remote', dir)).stdout;
      expect(changed.split(/^Step /m).find((x) => x.startsWith('2/3'))).not.toContain('Using cache');
      expect((await docker(berthd, 'run', '--rm', 'remote', 'cat', '/d/data.txt')).stdout).toBe('remote two\n');
      const missing = context('remote-404', { Dockerfile: `FROM busybox\nADD http://127.0.0.1:${port}/nope.txt /n\n` });
      const failed = await dockerFails(berthd, 'build', missing);
      expect(failed.stderr + failed.stdout).toContain(`ADD failed: error downloading http://127.0.0.1:${port}/nope.txt: 404`);
    } finally {
      server.close();
    }
  });

  it('works with the CLI default (no buildx here: it falls back to the classic builder)', async () => {
    const dir = context('default-cli', { Dockerfile: 'FROM busybox\nRUN echo default > /d\nCMD ["cat", "/d"]\n' });
    await run('docker', ['build', '-t', 'default-cli', dir], { env: berthd.env, encoding: 'utf8' });
    expect((await docker(berthd, 'run', '--rm', 'default-cli')).stdout).toBe('default\n');
  });

  it('cancels a build through /berth/jobs and leaves no intermediate container', async () => {
    const tar = await tarOf({ Dockerfile: 'FROM busybox\nRUN sleep 60\n' });
    const building = api(berthd.socket, 'POST', '/build?t=cancelled', tar);
    let jobId: string | undefined;
    for (let i = 0; i < 100 && !jobId; i++) {
      const jobs = JSON.parse((await api(berthd.socket, 'GET', '/berth/jobs')).body) as { id: string; name: string; state: string; progress: { current?: number } }[];
      jobId = jobs.find((j) => j.name === 'image.build' && j.state === 'running' && j.progress.current === 2)?.id;
      if (!jobId) await new Promise((r) => setTimeout(r, 100));
    }
    expect(jobId).toBeDefined();
    // Give RUN's container time to start, then cancel.
    for (let i = 0; i < 50 && (await docker(berthd, 'ps', '-q')).stdout.trim() === ''; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await api(berthd.socket, 'POST', `/berth/jobs/${jobId}/cancel`)).status).toBe(204);
    const res = await building;
    expect(res.body).toMatch(/"error"/);
    const job = JSON.parse((await api(berthd.socket, 'GET', `/berth/jobs/${jobId}`)).body) as { state: string };
    expect(job.state).toBe('cancelled');
    await noLeftovers();
  });

  it('keeps the intermediate images out of the list and out of prune, and removes them with the image', async () => {
    const dir = context('parents', { Dockerfile: 'FROM busybox\nRUN echo parents > /p\nENV PARENTS=1\nRUN echo two > /q\n' });
    await docker(berthd, 'build', '-t', 'parents:1', dir);
    const parentOf = async (name: string) => (await docker(berthd, 'image', 'inspect', '-f', '{{.Parent}}', name)).stdout.trim();
    const image = (await docker(berthd, 'image', 'inspect', '-f', '{{.Id}}', 'parents:1')).stdout.trim();
    const env = await parentOf(image);
    const run1 = await parentOf(env);
    const base = (await docker(berthd, 'image', 'inspect', '-f', '{{.Id}}', 'busybox')).stdout.trim();
    expect(await parentOf(run1)).toBe(base);

    const listed = async (...args: string[]) => (await docker(berthd, 'images', '-q', '--no-trunc', ...args)).stdout.split('\n').filter(Boolean);
    expect(await listed()).toContain(image);
    expect(await listed()).not.toContain(env);
    expect(await listed()).not.toContain(run1);
    expect(await listed('-a')).toEqual(expect.arrayContaining([image, env, run1]));
    expect(await listed('--filter', 'dangling=true')).not.toContain(env);
    const history = (await docker(berthd, 'history', '-q', '--no-trunc', 'parents:1')).stdout.split('\n').filter(Boolean);
    expect(history.slice(0, 4)).toEqual([image, env, run1, base]);

    // Prune leaves the build cache alone: the next build runs nothing.
    const pruned = (await docker(berthd, 'image', 'prune', '-f')).stdout;
    for (const id of [env, run1]) expect(pruned).not.toContain(id);
    expect((await docker(berthd, 'build', '-t', 'parents:1', dir)).stdout).not.toContain('Running in');
    expect((await dockerFails(berthd, 'rmi', '-f', env)).stderr).toContain(`conflict: unable to delete ${env.slice(7, 19)} (cannot be forced) - image has dependent child images`);

    const removed = (await docker(berthd, 'rmi', 'parents:1')).stdout.split('\n').filter(Boolean);
    expect(removed).toEqual(['Untagged: parents:1', `Deleted: ${image}`, `Deleted: ${env}`, `Deleted: ${run1}`]);
    expect((await docker(berthd, 'images', '-q')).stdout).toContain(base.slice(7, 19));
  });
});

describe('base images from a registry', () => {
  let registry: Registry | undefined;
  afterAll(async () => {
    await registry?.stop();
  });

  it('pulls a missing base image, and again with --pull', async () => {
    registry = await startRegistry(undefined, { images: ['hello'] });
    const dir = context('pull', { Dockerfile: `FROM ${registry.address}/hello:latest\nLABEL pulled=yes\n` });
    const first = (await docker(berthd, 'build', '-t', 'pulled', dir)).stdout;
    expect(first).toMatch(/Pulling from hello|Downloaded newer image|Pull complete/);
    expect((await docker(berthd, 'image', 'inspect', `${registry.address}/hello:latest`, '--format', '{{.Id}}')).stdout).toMatch(/^sha256:/);
    const again = (await docker(berthd, 'build', '--pull', dir)).stdout;
    expect(again).toMatch(/Image is up to date|Pulling from hello/);
    expect(again).toContain('Using cache');
  });
});

describe('docker commit', () => {
  it('makes an image of a changed container that runs with the change', async () => {
    const { stdout: id } = await docker(berthd, 'run', '-d', 'busybox', 'sh', '-c', 'echo committed > /etc/motd; rm /bin/arch; sleep 300');
    const cid = id.trim();
    for (let i = 0; i < 50 && !(await docker(berthd, 'diff', cid)).stdout.includes('D /bin/arch'); i++) await new Promise((r) => setTimeout(r, 100));
    const diff = (await docker(berthd, 'diff', cid)).stdout;
    expect(diff).toContain('A /etc/motd');
    expect(diff).toContain('D /bin/arch');
    try {
      await docker(berthd, 'commit', '-c', 'CMD ["cat", "/etc/motd"]', '-c', 'ENV COMMITTED=1', '-m', 'a change', '-a', 'Berth Tests', cid, 'committed:1');
    } finally {
      await docker(berthd, 'rm', '-f', cid);
    }
    expect((await docker(berthd, 'run', '--rm', 'committed:1')).stdout).toBe('committed\n');
    expect((await dockerFails(berthd, 'run', '--rm', 'committed:1', 'ls', '/bin/arch')).stderr).toContain('No such file');
    const [author, comment, env] = (await docker(berthd, 'image', 'inspect', 'committed:1', '--format', '{{.Author}}|{{.Comment}}|{{json .Config.Env}}')).stdout.trim().split('|');
    expect([author, comment]).toEqual(['Berth Tests', 'a change']);
    expect(env).toContain('"COMMITTED=1"');
    const top = (await docker(berthd, 'history', '--no-trunc', '--format', '{{.CreatedBy}}', 'committed:1')).stdout.split('\n')[0];
    expect(top).toContain('echo committed > /etc/motd');
  });
});

describe('against the reference dockerd', () => {
  const reference = startReferenceDockerd();
  it.skipIf(!reference)('gives the same config for the same Dockerfile', async () => {
    const dir = context('compare', {
      Dockerfile: 'ARG BASE=busybox\nFROM $BASE\nARG V=1\nENV A=$V B="x y" C=${UNSET:-dflt}\nLABEL a=$A b="c d"\nWORKDIR /srv\nWORKDIR sub\nCOPY f.txt .\nRUN echo hi > /hi\nEXPOSE 80 443/tcp 53/udp\nVOLUME /v1 ["/v2"]\nUSER 1:2\nENTRYPOINT ["/bin/sh", "-c"]\nCMD echo done\n',
      'f.txt': 'f\n',
    });
    const fields = '{{json .Config.Cmd}}|{{json .Config.Entrypoint}}|{{json .Config.Env}}|{{json .Config.WorkingDir}}|{{json .Config.User}}|{{json .Config.ExposedPorts}}|{{json .Config.Volumes}}|{{json .Config.Labels}}';
    const ours = (await docker(berthd, 'build', '-q', dir)).stdout.trim();
    const theirs = (await docker(reference!, 'build', '-q', '--build-arg', 'BASE=busybox:ref', dir)).stdout.trim();
    const a = (await docker(berthd, 'image', 'inspect', ours, '--format', fields)).stdout;
    const b = (await docker(reference!, 'image', 'inspect', theirs, '--format', fields)).stdout;
    expect(a).toBe(b);
  });
});
