import { describe, expect, it } from 'vitest';
import { PullProgressTracker } from './pull-progress.js';

describe('PullProgressTracker', () => {
  it('follows each layer from waiting to complete and keeps the overall line apart', () => {
    const t = new PullProgressTracker('127.0.0.1:5000/multilayer:latest');
    t.apply({ status: 'Pulling from multilayer', id: 'latest' });
    t.apply({ status: 'Pulling fs layer', id: 'aaa' });
    t.apply({ status: 'Pulling fs layer', id: 'bbb' });
    t.apply({ status: 'Downloading', id: 'aaa', progressDetail: { current: 100, total: 400 }, progress: '[==>   ]' });
    t.apply({ status: 'Waiting', id: 'bbb' });
    let s = t.snapshot();
    expect(s.status).toBe('Pulling from multilayer latest');
    expect(s.layers).toEqual([{ id: 'aaa', status: 'Downloading', current: 100, total: 400 }, { id: 'bbb', status: 'Waiting' }]);
    t.apply({ status: 'Download complete', id: 'aaa' });
    expect(t.snapshot().layers[0]).toMatchObject({ status: 'Download complete', current: 400, total: 400 });
    t.apply({ status: 'Extracting', id: 'aaa', progressDetail: { current: 50, total: 800 } });
    t.apply({ status: 'Pull complete', id: 'aaa' });
    t.apply({ status: 'Digest: sha256:abc' });
    t.finish();
    s = t.snapshot();
    expect(s).toMatchObject({ done: true, status: 'Digest: sha256:abc' });
    expect(s.layers[0]).toMatchObject({ status: 'Pull complete', current: 800, total: 800 });
  });

  it('records a failure', () => {
    const t = new PullProgressTracker('nope:latest');
    t.finish('manifest unknown');
    expect(t.snapshot()).toMatchObject({ done: true, error: 'manifest unknown', layers: [] });
  });
});
