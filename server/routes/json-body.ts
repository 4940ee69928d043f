/** Request bodies as the API routes read them: JSON, checked by a zod schema; a 400 names the field. */
import type { z } from 'zod';
import { HttpError } from '../http-errors.ts';

/** `matchers[0].value` */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** The body parsed as JSON (a 400 saying `notJson` when it is not). */
export async function jsonOf(req: Request, notJson = 'the body must be JSON'): Promise<unknown> {
  try {
    return await req.json();
  } catch {
    throw new HttpError(400, 'bad_request', notJson);
  }
}

/** The body parsed as JSON and checked by `schema`; a 400 naming the first field that is wrong. */
export async function jsonBody<S extends z.ZodType>(schema: S, req: Request): Promise<z.output<S>> {
  const res = schema.safeParse(await jsonOf(req));
  if (!res.success) {
    const issue = res.error.issues[0]!;
    throw new HttpError(400, 'bad_request', `${issuePath(issue.path) || 'body'}: ${issue.message}`);
  }
  return res.data;
}
