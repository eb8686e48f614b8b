import { describe, it, expect } from 'vitest';
import { applyChanges } from './dockerfile-changes';

describe('applyChanges (docker import -c / commit -c)', () => {
  it('applies each instruction as dockerd does', () => {
    const config = applyChanges({ Env: ['PATH=/bin', 'A=old'] }, [
      'CMD echo hi',
      'ENTRYPOINT ["/init", "--"]',
      'ENV A=new B="two words"',
      'ENV C legacy form value',
      'EXPOSE 80 53/udp',
      'LABEL team=berth "org.opencontainers.image.title"="Box"',
      'VOLUME ["/data", "/cache"]',
      'USER 1000:1000',
      'WORKDIR /srv',
      'WORKDIR app',
      'STOPSIGNAL SIGINT',
      'ONBUILD RUN make',
    ]);
    expect(config.Cmd).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(config.Entrypoint).toEqual(['/init', '--']);
    expect(config.Env).toEqual(['PATH=/bin', 'A=new', 'B=two words', 'C=legacy form value']);
    expect(config.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {} });
    expect(config.Labels).toEqual({ team: 'berth', 'org.opencontainers.image.title': 'Box' });
    expect(config.Volumes).toEqual({ '/data': {}, '/cache': {} });
    expect(config.User).toBe('1000:1000');
    expect(config.WorkingDir).toBe('/srv/app');
    expect(config.StopSignal).toBe('SIGINT');
    expect(config.OnBuild).toEqual(['RUN make']);
  });

  it('refuses instructions import cannot apply, in dockerd words', () => {
    expect(() => applyChanges({}, ['RUN make'])).toThrow('RUN is not a valid change command');
    expect(() => applyChanges({}, ['EXPOSE eighty'])).toThrow(/invalid containerPort: eighty/);
    expect(() => applyChanges({}, ['ENV'])).toThrow(/ENV requires at least one argument/);
  });
});
