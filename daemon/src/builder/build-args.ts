// Build arguments and their scoping, as the classic builder has them: `--build-arg` values apply
// only to names an ARG declares (or to the predefined proxy ones); ARGs before the first FROM are
// meta args, visible to FROM lines and to a stage that declares them again without a value;
// every FROM starts a fresh scope; ENV shadows an ARG of the same name.

/** ARGs every build has without declaring them, left out of the cache and history unless used. */
export const BUILTIN_ARGS = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]);

export class BuildArgs {
  /** Names declared by ARG in the current stage, with their default (undefined: none). */
  private allowed = new Map<string, string | undefined>();
  private readonly meta = new Map<string, string | undefined>();
  private readonly referenced = new Set<string>();
  /** Every name any ARG declared, for the "were not consumed" warning. */
  private readonly consumed = new Set<string>();

  /** `options` are the request's build args; null means "declared by the client without a value". */
  constructor(private readonly options: Record<string, string | null>) {}

  addMeta(name: string, value: string | undefined): void {
    this.meta.set(name, value);
    this.consumed.add(name);
  }

  /** A new stage: nothing declared yet. */
  resetAllowed(): void {
    this.allowed = new Map();
  }

  /** ARG inside a stage; without a default it inherits the meta ARG of the same name. */
  add(name: string, value: string | undefined): void {
    const inherited = value === undefined && this.meta.has(name) ? this.meta.get(name) : value;
    this.allowed.set(name, inherited);
    this.referenced.add(name);
    this.consumed.add(name);
  }

  /** The value of a build arg as the build sees it, or undefined when it has none. */
  private valueOf(name: string, defaults: Map<string, string | undefined>): string | undefined {
    const given = this.options[name];
    if (given !== undefined && given !== null) return given;
    return defaults.get(name);
  }

  /** What FROM lines substitute: meta args, and the predefined ones given by the client. */
  metaValues(): Map<string, string> {
    const out = new Map<string, string>();
    for (const name of this.meta.keys()) {
      const v = this.valueOf(name, this.meta);
      if (v !== undefined) out.set(name, v);
    }
    for (const name of BUILTIN_ARGS) {
      const v = this.options[name];
      if (typeof v === 'string') out.set(name, v);
    }
    return out;
  }

  /**
   * The `name=value` pairs a RUN step gets in its environment: the declared args and the given
   * predefined ones, minus those an ENV of the same name shadows.
   */
  filterAllowed(env: string[]): string[] {
    const envNames = new Set(env.map((e) => e.split('=', 1)[0]));
    const out: string[] = [];
    const add = (name: string, value: string | undefined) => {
      if (value !== undefined && !envNames.has(name)) out.push(`${name}=${value}`);
    };
    for (const name of this.allowed.keys()) add(name, this.valueOf(name, this.allowed));
    for (const name of BUILTIN_ARGS) {
      const v = this.options[name];
      if (!this.allowed.has(name) && typeof v === 'string') add(name, v);
    }
    return out;
  }

  /** Predefined args stay out of the cache key and history unless the Dockerfile declares them. */
  isReferencedOrNotBuiltin(name: string): boolean {
    return !BUILTIN_ARGS.has(name) || this.referenced.has(name);
  }

  /** Variables for substitution in the current stage: ENV first (it shadows), then the args. */
  lookup(env: string[]): (name: string) => string | undefined {
    const args = this.filterAllowed(env);
    return (name) => {
      for (const list of [env, args]) {
        for (const e of list) {
          const eq = e.indexOf('=');
          if (eq >= 0 && e.slice(0, eq) === name) return e.slice(eq + 1);
        }
      }
      return undefined;
    };
  }

  /** Client args no ARG ever declared, for dockerd's warning. */
  unconsumed(): string[] {
    return Object.keys(this.options).filter((k) => !this.consumed.has(k) && !BUILTIN_ARGS.has(k)).sort();
  }
}
