/** Errors mapped once: `{ code, message, requestId }`; a 500 never leaks internals. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorBody } from '../schema/api-answers.ts';
import type { ErrorCode } from '../schema/error-codes.ts';
import type { Logger } from '../common/logger.ts';
import { InvalidQueryError } from './history/invalid-query.ts';

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function errorHandler(log: Logger) {
  return (err: Error, c: Context) => {
    const requestId = (c.get('requestId' as never) as string | undefined) ?? null;
    if (err instanceof HttpError) {
      return c.json({ code: err.code, message: err.message, requestId } satisfies ErrorBody, err.status);
    }
    if (err instanceof InvalidQueryError) {
      return c.json({ code: 'bad_request', message: err.message, requestId } satisfies ErrorBody, 400);
    }
    log.error('request failed', { requestId, path: c.req.path, err: err.stack ?? String(err) });
    return c.json({ code: 'internal', message: 'internal error', requestId } satisfies ErrorBody, 500);
  };
}

export function notFound(c: Context) {
  const requestId = (c.get('requestId' as never) as string | undefined) ?? null;
  return c.json({ code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}`, requestId } satisfies ErrorBody, 404);
}
