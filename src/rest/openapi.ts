/** The OpenAPI 3.1 document, generated from the route table the handler dispatches on. */
import { PROBLEM_CODES, problemType } from './problem.js';
import type { Route, Schema } from './route.js';
import { SCHEMAS } from './schemas.js';

/** Builds the document; `serverUrl` is where the handler is mounted (`/` or e.g. `/mcc`). */
export function openApiDocument(routes: readonly Route[], options: { version: string; serverUrl: string; token: boolean }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, spec]) => [
          status,
          spec.schema
            ? { description: spec.description, content: { [spec.contentType ?? 'application/json']: { schema: spec.schema } } }
            : { description: spec.description },
        ]),
      ),
    };
    if (route.parameters) operation['parameters'] = route.parameters;
    if (route.requestBody) operation['requestBody'] = { required: true, content: { 'application/json': { schema: route.requestBody } } };
    if (route.public) operation['security'] = [];
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  const document: Record<string, unknown> = {
    openapi: '3.1.0',
    info: {
      title: 'mcc-mesh node API',
      version: options.version,
      description:
        'Service discovery, tunnels and the DHT of one mcc-mesh node, over HTTP. Errors are RFC 9457 problem documents whose `type` is one of: ' +
        PROBLEM_CODES.map((code) => `\`${problemType(code)}\``).join(', ') +
        '.',
    },
    servers: [{ url: options.serverUrl }],
    paths,
    components: { schemas: SCHEMAS as Record<string, Schema> },
  };
  if (options.token) {
    (document['components'] as Record<string, unknown>)['securitySchemes'] = { bearer: { type: 'http', scheme: 'bearer' } };
    document['security'] = [{ bearer: [] }];
  }
  return document;
}
