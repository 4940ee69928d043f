/** How every connection of the SQLite store is set up: WAL, NORMAL sync, a wait for the write lock. */
import type Database from 'better-sqlite3';

export function setUpConnection(client: Database.Database, busyTimeoutMs = 5000): Database.Database {
  client.pragma('journal_mode = WAL');
  client.pragma('synchronous = NORMAL');
  client.pragma(`busy_timeout = ${busyTimeoutMs}`);
  return client;
}
