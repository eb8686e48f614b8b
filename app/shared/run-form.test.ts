import { describe, expect, it } from 'vitest';
import { parseEnv, parsePorts, parseVolumes, splitCommand } from './run-form.js';

describe('Run dialog parsing', () => {
  it('splits a command line with quotes and escapes like a shell would', () => {
    expect(splitCommand(`sh -c 'echo "hi there"; sleep 1'`)).toEqual(['sh', '-c', 'echo "hi there"; sleep 1']);
    expect(splitCommand('echo a\\ b "" x')).toEqual(['echo', 'a b', '', 'x']);
    expect(splitCommand('   ')).toEqual([]);
    expect(() => splitCommand('echo "open')).toThrow(/unterminated " quote/);
  });

  it('reads port mappings with default protocol and engine-chosen host ports', () => {
    expect(parsePorts('8080:80, 5353:53/udp\n9000')).toEqual([
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostPort: 5353, containerPort: 53, protocol: 'udp' },
      { hostPort: 0, containerPort: 9000, protocol: 'tcp' },
    ]);
    expect(() => parsePorts('80:http')).toThrow(/invalid port "80:http"/);
    expect(() => parsePorts('70000:80')).toThrow(/1 to 65535/);
  });

  it('reads environment and volume lines and refuses malformed ones', () => {
    expect(parseEnv('A=1\n\n B=x=y ')).toEqual(['A=1', 'B=x=y']);
    expect(() => parseEnv('JUSTNAME')).toThrow(/write KEY=value/);
    expect(parseVolumes('/srv/data:/data\ncache:/cache:ro')).toEqual(['/srv/data:/data', 'cache:/cache:ro']);
    expect(() => parseVolumes('relative')).toThrow(/invalid volume/);
  });
});
