/**
 * The shape of one REST route. The route table (routes-*.ts) is the single source the
 * handler dispatches on and the OpenAPI document is generated from, so the two cannot drift.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MccNode } from '../node.js';
import type { AccessOptions } from './security.js';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type Schema = Record<string, unknown>;

/** What a route needs to answer. */
export interface RouteContext {
  node: MccNode;
  request: IncomingMessage;
  response: ServerResponse;
  /** Path parameters, decoded. */
  params: Record<string, string>;
  url: URL;
  /** Fires when the client goes away before the answer is complete. */
  signal: AbortSignal;
  /** Shared state of one handler (forwards it opened, open event streams). */
  shared: HandlerState;
  options: AccessOptions;
}

/** State one handler keeps across requests. */
export interface HandlerState {
  /** Open SSE streams (bounded). */
  eventStreams: number;
}

/** A JSON answer. */
export interface JsonReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A documented answer of a route. */
export interface ResponseSpec {
  description: string;
  /** JSON body schema, or another media type with its schema. */
  schema?: Schema;
  contentType?: string;
}

/** One route of the API. */
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path template relative to the mount point, e.g. `/v1/services/{name}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** Path and query parameters. */
  parameters?: Array<{ name: string; in: 'path' | 'query'; description: string; schema: Schema; required?: boolean }>;
  /** JSON request body schema. */
  requestBody?: Schema;
  responses: Record<number, ResponseSpec>;
  /** Needs no token (the API description). */
  public?: boolean;
  /** Answers: a JSON reply, or undefined when it wrote the response itself (SSE, text). */
  handle(context: RouteContext): Promise<JsonReply | undefined> | JsonReply | undefined;
}
