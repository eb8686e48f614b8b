// `npm run bench`: starts berthd and the reference dockerd, measures every figure on both in the
// same run, prints the table of ratios and saves it under bench/results/. Optional arguments
// select figures by a substring of their names.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBerthd, repoRoot } from '../e2e/berthd';
import { startReferenceDockerd } from '../e2e/reference';
import { renderTable, type Engines, type Row } from './harness';
import { figures } from './figures/index';

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const selected = wanted.length === 0 ? figures : figures.filter((f) => wanted.some((w) => f.name.includes(w)));
  let reference: Engines['reference'];
  try {
    reference = startReferenceDockerd();
  } catch (err) {
    process.stderr.write(`bench: reference dockerd unavailable, ratios left blank: ${(err as Error).message}\n`);
  }
  // A short exec root: each container's sockets live under it, and a unix socket path is at most
  // 107 bytes (berthd refuses the temporary directory's longer one).
  const execRoot = mkdtempSync('/run/bb-');
  const berthd = await startBerthd({ execRoot });
  const rows: Row[] = [];
  try {
    for (const figure of selected) {
      process.stderr.write(`bench: ${figure.name}…\n`);
      try {
        rows.push({ figure, result: await figure.measure({ berthd, reference }) });
      } catch (err) {
        rows.push({ figure, error: (err as Error).message.split('\n')[0] });
      }
    }
  } finally {
    await berthd.stop();
    rmSync(execRoot, { recursive: true, force: true });
  }
  const table = renderTable(rows);
  process.stdout.write(table + '\n');
  const dir = path.join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.md`), table + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack}\n`);
  process.exit(1);
});
