// The route table: METHOD + path pattern → handler, as moby's routers are. Patterns use `{name}` for
// one path segment and `{name:.*}` for a rest-of-path parameter (image names contain slashes).
import type { RequestContext } from './context';

export type Handler = (ctx: RequestContext) => Promise<void>;

export interface Route {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  handler: Handler;
}

interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path.split('/').map((segment) => {
    const param = /^\{([a-zA-Z]+)(:\.\*)?\}$/.exec(segment);
    if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    names.push(param[1]!);
    return param[2] ? '(.+)' : '([^/]+)';
  }).join('/');
  return { ...route, regex: new RegExp(`^${source}$`), names };
}

export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: Route[]) {
    this.routes = routes.map(compile);
  }

  /** The first route that matches method and path, in table order (specific routes come first). */
  match(method: string, path: string): RouteMatch | undefined {
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1]!);
      });
      return { route: r, params };
    }
    return undefined;
  }

  get table(): readonly Route[] {
    return this.routes;
  }
}
