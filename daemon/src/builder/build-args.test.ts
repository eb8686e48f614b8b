import { describe, expect, it } from 'vitest';
import { BuildArgs } from './build-args';

describe('BuildArgs', () => {
  it('gives a stage only the args it declares, with client values over defaults', () => {
    const args = new BuildArgs({ WHO: 'client', OTHER: 'x' });
    args.resetAllowed();
    args.add('WHO', 'default');
    args.add('EMPTY', undefined);
    expect(args.filterAllowed([])).toEqual(['WHO=client']);
    expect(args.unconsumed()).toEqual(['OTHER']);
  });

  it('lets a stage inherit a meta ARG only by declaring it again, and starts each stage afresh', () => {
    const args = new BuildArgs({});
    args.addMeta('VERSION', '1.2');
    expect(args.metaValues().get('VERSION')).toBe('1.2');
    args.resetAllowed();
    expect(args.filterAllowed([])).toEqual([]);
    args.add('VERSION', undefined);
    expect(args.filterAllowed([])).toEqual(['VERSION=1.2']);
    args.resetAllowed();
    expect(args.filterAllowed([])).toEqual([]);
  });

  it('lets ENV shadow an ARG of the same name, in RUN and in substitution', () => {
    const args = new BuildArgs({ A: 'from-arg' });
    args.add('A', undefined);
    args.add('B', 'b');
    expect(args.filterAllowed(['A=from-env'])).toEqual(['B=b']);
    const lookup = args.lookup(['A=from-env']);
    expect([lookup('A'), lookup('B'), lookup('C')]).toEqual(['from-env', 'b', undefined]);
  });

  it('passes the predefined proxy args without ARG, keeping them out of the cache unless declared', () => {
    const args = new BuildArgs({ HTTP_PROXY: 'http://proxy:3128', no_proxy: 'localhost' });
    expect(args.filterAllowed([])).toEqual(['HTTP_PROXY=http://proxy:3128', 'no_proxy=localhost']);
    expect(args.isReferencedOrNotBuiltin('HTTP_PROXY')).toBe(false);
    args.add('HTTP_PROXY', undefined);
    expect(args.isReferencedOrNotBuiltin('HTTP_PROXY')).toBe(true);
    expect(args.unconsumed()).toEqual([]);
    expect(args.metaValues().get('HTTP_PROXY')).toBe('http://proxy:3128');
  });
});
