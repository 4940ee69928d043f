/**
 * A history query that cannot be answered as asked: a parameter out of range, an unknown chip, a
 * range that ends before it starts. Transport-free; the message says how to fix the request (the
 * HTTP layer answers it as 400 `bad_request`).
 */
export class InvalidQueryError extends Error {
  override readonly name = 'InvalidQueryError';
}
