// The two readers of .dockerignore agree: the app's (what the client leaves out of the context it
// sends, as the docker CLI does) and berthd's (what the builder leaves out of a context a raw API
// client sent whole). They sit on either side of the Engine API and cannot share code (the layers
// forbid it), so this test holds them to the same answers.
import { describe, expect, it } from 'vitest';
import { IgnoreRules } from '../../app/main/build/dockerignore';
import { DockerIgnore } from '../../daemon/src/builder/dockerignore';

const patterns = [
  'secret.txt', 'build/', '/dist', './tmp', '*.log', 'docs/?.md', '**/*.tmp', 'a/**/z', 'logs/**',
  'file[0-9].txt', 'x[^a].txt', 'star\\*', '*.md\n!README.md', '*\n!keep', 'dir\n!dir/inner.txt', '# comment\nnode_modules',
];
const paths = [
  'secret.txt', 'src/secret.txt', 'build', 'build/out/app.js', 'buildx', 'dist/a.js', 'tmp/x', 'a.log', 'sub/a.log',
  'docs/a.md', 'docs/ab.md', 'x.tmp', 'deep/er/x.tmp', 'a/z', 'a/b/c/z', 'a/zz', 'logs/2024/x', 'file7.txt', 'filex.txt',
  'xb.txt', 'xa.txt', 'star*', 'starry', 'NOTES.md', 'README.md', 'keep', 'other', 'dir/inner.txt', 'dir/outer.txt',
  'node_modules/pkg/index.js', '# comment',
];

describe('.dockerignore in the app and in berthd', () => {
  for (const text of patterns) {
    it(`agree on ${JSON.stringify(text)}`, () => {
      const app = IgnoreRules.parse(text);
      const daemon = DockerIgnore.parse(text);
      const left = paths.filter((p) => app.excludes(p));
      expect(left).toEqual(paths.filter((p) => daemon.excludes(p)));
      // Every pattern leaves something out and keeps something, so agreeing means something.
      expect(left.length).toBeGreaterThan(0);
      expect(left.length).toBeLessThan(paths.length);
    });
  }
});
