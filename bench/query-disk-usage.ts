/**
 * Bytes on disk per table, from SQLite's dbstat virtual table: every page of the table's b-tree and
 * of its indexes (overflow pages and unused space in pages included), after a WAL checkpoint.
 */
import type Database from 'better-sqlite3';

export interface DiskUsage {
  /** Table name -> bytes of its b-tree plus its indexes' b-trees. */
  tables: Map<string, number>;
  /** The database file's size (page_count × page_size). */
  fileBytes: number;
  freePages: number;
}

export function diskUsage(db: Database.Database): DiskUsage {
  db.pragma('wal_checkpoint(TRUNCATE)');
  const owner = new Map<string, string>();
  for (const r of db.prepare('SELECT name, tbl_name FROM sqlite_schema').all() as { name: string; tbl_name: string }[]) owner.set(r.name, r.tbl_name);
  const tables = new Map<string, number>();
  for (const r of db.prepare('SELECT name, pgsize FROM dbstat WHERE aggregate = TRUE').all() as { name: string; pgsize: number }[]) {
    const table = owner.get(r.name) ?? r.name;
    tables.set(table, (tables.get(table) ?? 0) + r.pgsize);
  }
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  return { tables, fileBytes: pageSize * pages, freePages: db.pragma('freelist_count', { simple: true }) as number };
}

/** What the rows hold (payload only, no page or index overhead): chunks per vendor, rollup rows per tier. */
export interface StoredPayload {
  chunks: { vendor: string; samples: number; bytes: number }[];
  rollups: { tier: string; rows: number; bytes: number }[];
}

export function storedPayload(db: Database.Database): StoredPayload {
  return {
    chunks: db
      .prepare('SELECT c.vendor AS vendor, SUM(s.n) AS samples, SUM(LENGTH(s.data)) AS bytes FROM sample_chunks s JOIN chips c ON c.id = s.chip_id GROUP BY c.vendor ORDER BY c.vendor')
      .all() as StoredPayload['chunks'],
    rollups: db.prepare('SELECT tier, COUNT(*) AS rows, SUM(LENGTH(data)) AS bytes FROM rollups GROUP BY tier ORDER BY tier').all() as StoredPayload['rollups'],
  };
}
