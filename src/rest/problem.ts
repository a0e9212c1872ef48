/**
 * Errors as RFC 9457 problem documents (`application/problem+json`). Every `MccError`
 * code maps to one HTTP status and one stable `type` URI, so clients branch on `type`
 * or `code` and never parse `detail`.
 */
import type { ServerResponse } from 'node:http';
import { MccError, type MccErrorCode } from '../errors.js';
import type { Problem } from './types.js';

/** Problems that are about HTTP itself rather than an `MccError` of the node. */
export type HttpProblemCode =
  | 'ERR_ROUTE_NOT_FOUND'
  | 'ERR_METHOD_NOT_ALLOWED'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_FORBIDDEN'
  | 'ERR_CONFLICT'
  | 'ERR_PAYLOAD_TOO_LARGE'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_INTERNAL';

const STATUS: Record<MccErrorCode | HttpProblemCode, number> = {
  ERR_INVALID_ARGUMENT: 400,
  ERR_DECODE: 400,
  ERR_DATAGRAM_TOO_LARGE: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_NOT_FOUND: 404,
  ERR_ROUTE_NOT_FOUND: 404,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_CONFLICT: 409,
  ERR_ALREADY_STARTED: 409,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_LIMIT: 429,
  ERR_INTERNAL: 500,
  ERR_IDENTITY: 500,
  ERR_CRYPTO: 500,
  ERR_TRANSPORT: 500,
  ERR_PEER: 502,
  ERR_UNREACHABLE: 502,
  ERR_STREAM: 502,
  ERR_NOT_STARTED: 503,
  ERR_STOPPED: 503,
  ERR_ABORTED: 503,
  ERR_TIMEOUT: 504,
};

const TITLE: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Every problem code the API can answer with (listed in the OpenAPI document). */
export const PROBLEM_CODES = Object.keys(STATUS) as Array<MccErrorCode | HttpProblemCode>;

/** The stable `type` URI of a code: `urn:mcc-mesh:problem:invalid-argument` for `ERR_INVALID_ARGUMENT`. */
export function problemType(code: string): string {
  return `urn:mcc-mesh:problem:${code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, '-')}`;
}

/** An error the handler answers with a chosen HTTP problem. */
export class HttpProblem extends Error {
  constructor(
    readonly code: MccErrorCode | HttpProblemCode,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}

/** The problem document for any thrown value; unknown errors become a 500 without internals. */
export function toProblem(error: unknown): { problem: Problem; headers: Record<string, string> } {
  if (error instanceof HttpProblem) return { problem: build(error.code, error.message, error.field), headers: error.headers };
  if (error instanceof MccError) {
    const argument = error.details?.['argument'];
    return { problem: build(error.code, error.message, typeof argument === 'string' ? argument : undefined), headers: {} };
  }
  return { problem: build('ERR_INTERNAL', 'the node failed to answer this request (see its log)'), headers: {} };
}

function build(code: MccErrorCode | HttpProblemCode, detail: string, field?: string): Problem {
  const status = STATUS[code] ?? 500;
  return { type: problemType(code), title: TITLE[status] ?? 'Error', status, detail, code, ...(field !== undefined ? { field } : {}) };
}

/** Writes `error` as `application/problem+json` (nothing when the response already started). */
export function sendProblem(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const { problem, headers } = toProblem(error);
  const text = JSON.stringify(problem);
  response.writeHead(problem.status, {
    ...headers,
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}
