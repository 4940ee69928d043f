/**
 * The `bytea` column type for the PostgreSQL schema (Drizzle's pg-core has none built in):
 * encoded chunks and rollup rows, read and written as Node Buffers.
 */
import { customType } from 'drizzle-orm/pg-core';

export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});
