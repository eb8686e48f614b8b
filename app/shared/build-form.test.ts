import { describe, expect, it } from 'vitest';
import { dockerfilePathProblem, isDockerfileName, parseBuildArgs, parseTags, tagProblem, targetProblem } from './build-form.js';

describe('the build form', () => {
  it('accepts the tags the docker CLI accepts', () => {
    for (const t of ['app', 'app:1.0', 'me/app:latest', 'registry.local:5000/team/app:v2', 'localhost/a_b.c-d:x', '[::1]:5000/app']) expect(tagProblem(t)).toBeUndefined();
  });

  it('refuses the ones it refuses, saying why', () => {
    expect(tagProblem('App')).toMatch(/must be lowercase/);
    expect(tagProblem('app:')).toMatch(/invalid reference format/);
    expect(tagProblem('app@sha256:abc')).toMatch(/digest/);
    expect(tagProblem('-app')).toMatch(/invalid reference format/);
    expect(tagProblem(`a:${'x'.repeat(129)}`)).toMatch(/invalid reference format/);
    expect(tagProblem('a'.repeat(256))).toMatch(/more than 255/);
  });

  it('reads several tags separated by spaces, commas or lines, without repeats', () => {
    expect(parseTags(' app:1, app:latest\napp:1 ')).toEqual(['app:1', 'app:latest']);
    expect(() => parseTags('ok Bad')).toThrow('invalid tag "Bad"');
  });

  it('turns build arg rows into a map, skipping blank rows and refusing nameless values', () => {
    expect(parseBuildArgs([{ key: ' A ', value: '1' }, { key: '', value: '' }, { key: 'B', value: '' }, { key: 'A', value: '2' }])).toEqual({ A: '2', B: '' });
    expect(() => parseBuildArgs([{ key: '', value: 'x' }])).toThrow('a build arg needs a name');
    expect(() => parseBuildArgs([{ key: 'A=B', value: 'x' }])).toThrow('cannot hold "="');
    const proto = parseBuildArgs([{ key: '__proto__', value: 'x' }]);
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
  });

  it('checks stage names and Dockerfile paths', () => {
    expect(targetProblem('build-stage.1')).toBeUndefined();
    expect(targetProblem('1st')).toMatch(/starts with a letter/);
    expect(dockerfilePathProblem('docker/Dockerfile.dev')).toBeUndefined();
    expect(dockerfilePathProblem('../Dockerfile')).toMatch(/inside the context/);
    expect(dockerfilePathProblem('/abs/Dockerfile')).toMatch(/relative/);
    expect(dockerfilePathProblem('a\\Dockerfile')).toMatch(/relative/);
  });

  it('knows a Dockerfile by its name', () => {
    for (const n of ['Dockerfile', 'Dockerfile.dev', 'prod.Dockerfile', 'app.dockerfile', 'dockerfile', 'Containerfile']) expect(isDockerfileName(n)).toBe(true);
    for (const n of ['README.md', 'Dockerfile.dockerignore', '.dockerignore']) expect(isDockerfileName(n)).toBe(false);
  });
});
