/** Matches a request path against the route table's templates (`/v1/services/{name}`). */
import { HttpProblem } from './problem.js';
import type { Route } from './route.js';

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

/** The result of matching a path: the route for the method, or the methods the path allows. */
export type Match = { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined;

/** A router over a fixed table. */
export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(readonly routes: readonly Route[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const source = route.path
        .split('/')
        .map((segment) => {
          const parameter = /^\{(\w+)\}$/.exec(segment);
          if (!parameter) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(parameter[1]);
          return '([^/]+)';
        })
        .join('/');
      return { route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  /** Finds the route of `method` at `path` (HEAD runs GET routes that are not event streams). */
  match(method: string, path: string): Match {
    const allowed: string[] = [];
    for (const { route, pattern, names } of this.compiled) {
      const found = pattern.exec(path);
      if (!found) continue;
      const streams = route.responses[200]?.contentType === 'text/event-stream';
      if (route.method === method || (method === 'HEAD' && route.method === 'GET' && !streams)) {
        const params: Record<string, string> = {};
        names.forEach((name, index) => (params[name] = decode(found[index + 1], name)));
        return { route, params };
      }
      allowed.push(route.method);
      if (route.method === 'GET' && !streams) allowed.push('HEAD');
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

function decode(segment: string, name: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpProblem('ERR_INVALID_ARGUMENT', `invalid "${name}": malformed percent-encoding`, name);
  }
}

/** The path of a request URL without query and trailing slashes (a loop, not a regex: long runs of slashes cost linear time). */
export function routePath(url: string): string {
  const query = url.indexOf('?');
  let path = query === -1 ? url : url.slice(0, query);
  const hash = path.indexOf('#');
  if (hash !== -1) path = path.slice(0, hash);
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 0x2f) end--;
  path = path.slice(0, end);
  return path === '' ? '/' : path;
}
