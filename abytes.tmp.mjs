import Database from 'better-sqlite3';
const db = new Database(process.argv[2], { readonly: true });
const a = db.prepare(`SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE '%alert_events%' OR name LIKE '%alert_texts%'`).pluck().get();
const n = db.prepare('select count(*) from alert_events').pluck().get();
const s = db.prepare('select sum(n) from sample_chunks').pluck().get();
const pages = db.pragma('page_count', { simple: true }), free = db.pragma('freelist_count', { simple: true });
console.log(JSON.stringify({ alertMB: +(a / 1e6).toFixed(1), events: n, bytesPerEvent: Math.round(a / n), samples: s, alertBPerSample: +(a / s).toFixed(1), dbNoFreeBPerSample: +(((pages - free) * 4096) / s).toFixed(1) }));
