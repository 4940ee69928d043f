/** Stable error codes shared by HTTP responses, ws error frames and close reasons. */
export const ERROR_CODES = {
  bad_json: 'The frame is not valid JSON',
  bad_frame: 'The frame does not match the protocol schema',
  unknown_type: 'Unknown message type',
  unsupported_version: 'Unsupported protocol version',
  out_of_range: 'A value is outside its allowed range',
  unknown_chip: 'A sample names a chip not announced in hello',
  no_hello: 'hello must be the first message',
  duplicate_hello: 'hello was already sent on this connection',
  agent_owned: 'The agent id belongs to another token',
  chip_owned: 'The chip belongs to another agent',
  too_large: 'The frame exceeds the size limit',
  not_found: 'Not found',
  bad_request: 'Bad request',
  conflict: 'The resource already exists, or another source (the rules file, a flag) manages it',
  unauthorized: 'Missing or invalid token',
  forbidden: 'The token does not allow this',
  too_many_connections: 'Too many connections',
  internal: 'Internal error',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;
