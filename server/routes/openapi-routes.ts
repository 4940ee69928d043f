/** GET /api/v1/openapi.json: the OpenAPI 3.1 document of the hub's HTTP API. */
import { Hono } from 'hono';
import { openApiDocument } from './openapi-document.ts';

export function openApiRoutes() {
  const doc = openApiDocument();
  return new Hono().get('/', (c) => c.json(doc));
}
