// Test support: a tar built in memory from entries (test layers and archives are tiny), with a
// fixed mtime so the same entries always give the same bytes and digests.
import { pack as tarPack, type Headers } from 'tar-stream';

export type TarEntry = Headers & { body?: Buffer | string };

export async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const { body, ...h } of entries) {
    await new Promise<void>((resolve, reject) => p.entry({ mtime: new Date(1_700_000_000_000), ...h }, body ?? '', (e) => (e ? reject(e) : resolve())));
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}
