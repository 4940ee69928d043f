/**
 * drizzle-kit configuration of the PostgreSQL store's schema: the plain tables of
 * schema/pg/tables.ts. The time-partitioned tables have a hand-written migration
 * (`npx drizzle-kit generate --custom --config drizzle.pg.config.ts`), see schema/pg/partitioned-tables.ts.
 */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './schema/pg/tables.ts',
  out: './schema/pg-migrations',
});
