// The builder's figures: a 10-step Dockerfile (three RUN steps, two COPY, WORKDIR and config
// steps) built with the classic builder, cold (--no-cache: every step does its work) and warm
// (unchanged: every step is a cache hit), berthd against the reference dockerd. berthd's runs use
// a berthd of their own whose exec root is short enough for the shim's socket paths.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { medianMs, type Figure } from '../harness';
import { cliFloorMs, cliFloorNote } from '../cli-floor';
import { startBerthd, type Berthd } from '../../e2e/berthd';
import { ensureFixtures } from '../../e2e/fixtures/fixtures';

const run = promisify(execFile);

const DOCKERFILE = `ARG BASE=busybox
FROM $BASE
ENV APP=/app
WORKDIR /app
COPY data/ ./data/
RUN echo one > one.txt
RUN echo two > two.txt && cat one.txt >> two.txt
LABEL bench=build
COPY big.bin /app/big.bin
RUN ls -la > listing.txt
CMD ["cat", "listing.txt"]
`;

interface Setup {
  context: string;
  berthd: Berthd;
  execRoot: string;
}

let setup: Promise<Setup> | undefined;

/** A context and a berthd with the busybox fixture, for one figure (done() removes them). */
function prepare(): Promise<Setup> {
  setup ??= (async () => {
    const context = mkdtempSync(path.join(tmpdir(), 'berth-bench-build-'));
    writeFileSync(path.join(context, 'Dockerfile'), DOCKERFILE);
    mkdirSync(path.join(context, 'data'));
    for (let i = 0; i < 50; i++) writeFileSync(path.join(context, 'data', `f${i}.txt`), `file ${i}\n`.repeat(100));
    writeFileSync(path.join(context, 'big.bin'), Buffer.alloc(4 << 20, 7));
    const execRoot = mkdtempSync('/tmp/bb-');
    const berthd = await startBerthd({ execRoot });
    const fixtures = await ensureFixtures();
    await run('docker', ['load', '-q', '-i', fixtures.busybox.dockerArchive], { env: berthd.env });
    return { context, berthd, execRoot };
  })();
  return setup;
}

async function done(): Promise<void> {
  const s = await setup;
  if (!s) return;
  setup = undefined;
  await s.berthd.stop();
  rmSync(s.execRoot, { recursive: true, force: true });
  rmSync(s.context, { recursive: true, force: true });
}

const build = (env: NodeJS.ProcessEnv, context: string, extra: string[]) =>
  run('docker', ['build', '-q', ...extra, context], { env: { ...env, DOCKER_BUILDKIT: '0' }, maxBuffer: 16 << 20 });

export const buildFigures: Figure[] = [
  {
    name: 'docker build, 10 steps, cold (--no-cache)',
    unit: 'ms',
    better: 'lower',
    goal: 0.7,
    async measure({ reference }) {
      const { context, berthd } = await prepare();
      try {
        const berth = await medianMs(() => build(berthd.env, context, ['--no-cache']), 5, 1);
        const baseline = reference ? await medianMs(() => build(reference.env, context, ['--no-cache', '--build-arg', 'BASE=busybox:ref']), 5, 1) : undefined;
        return { berth, baseline };
      } finally {
        await done();
      }
    },
  },
  {
    name: 'docker build, 10 steps, warm cache',
    unit: 'ms',
    better: 'lower',
    goal: 0.3,
    async measure({ reference }) {
      const { context, berthd } = await prepare();
      try {
        const berth = await medianMs(() => build(berthd.env, context, []), 10, 2);
        const baseline = reference ? await medianMs(() => build(reference.env, context, ['--build-arg', 'BASE=busybox:ref']), 10, 2) : undefined;
        const cli = await cliFloorMs(['build', '-q', context], 10);
        return { berth, baseline, note: cliFloorNote(cli, baseline) };
      } finally {
        await done();
      }
    },
  },
];
