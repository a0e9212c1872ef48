/**
 * The shape of one REST route. The route table (routes-*.ts) is the single source the
 * handler dispatches on and the OpenAPI document is generated from, so the two cannot drift.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MccNode } from '../node/node.js';
import type { AccessOptions } from './security.js';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type Schema = Record<string, unknown>;

/** What a route needs to answer. */
export interface RouteContext {
  /** The node the handler serves. */
  node: MccNode;
  /** The HTTP request being answered. */
  request: IncomingMessage;
  /** Its response: routes that stream (SSE, text) write to it directly. */
  response: ServerResponse;
  /** Path parameters, decoded. */
  params: Record<string, string>;
  /** The request target as a URL (on a placeholder origin: only path and query are meaningful). */
  url: URL;
  /** Fires when the client goes away before the answer is complete. */
  signal: AbortSignal;
  /** Shared state of one handler (forwards it opened, open event streams). */
  shared: HandlerState;
  /** The access options the handler was created with. */
  options: AccessOptions;
}

/** State one handler keeps across requests. */
export interface HandlerState {
  /** Open SSE streams (bounded). */
  eventStreams: number;
}

/** A JSON answer. */
export interface JsonReply {
  /** The HTTP status code. */
  status: number;
  /** Serialized as JSON; undefined sends an empty body. */
  body?: unknown;
  /** Extra response headers (content type and caching are set by the handler). */
  headers?: Record<string, string>;
}

/** A documented answer of a route. */
export interface ResponseSpec {
  /** What the answer means, for the OpenAPI document. */
  description: string;
  /** JSON body schema, or another media type with its schema. */
  schema?: Schema;
  /** Media type of the body. Default `application/json`. */
  contentType?: string;
}

/** One route of the API. */
export interface Route {
  /** The HTTP method it answers. */
  method: 'GET' | 'POST' | 'DELETE';
  /** Path template relative to the mount point, e.g. `/v1/services/{name}`. */
  path: string;
  /** Unique name of the operation in the OpenAPI document (client generators use it). */
  operationId: string;
  /** One line on what the route does, for the OpenAPI document. */
  summary: string;
  /** OpenAPI tag that groups it (`node`, `services`, …). */
  tag: string;
  /** Path and query parameters. */
  parameters?: Array<{
    /** The parameter's name. */
    name: string;
    /** Where it travels: a path segment or the query string. */
    in: 'path' | 'query';
    /** What it means, for the OpenAPI document. */
    description: string;
    /** JSON Schema of its value. */
    schema: Schema;
    /** Must be present; OpenAPI wants true on every path parameter. Default false. */
    required?: boolean;
  }>;
  /** JSON request body schema. */
  requestBody?: Schema;
  /** Documented answers by HTTP status code. */
  responses: Record<number, ResponseSpec>;
  /** Needs no token (the API description). */
  public?: boolean;
  /** Answers: a JSON reply, or undefined when it wrote the response itself (SSE, text). */
  handle(context: RouteContext): Promise<JsonReply | undefined> | JsonReply | undefined;
}
