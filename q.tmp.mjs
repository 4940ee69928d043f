import Database from 'better-sqlite3';
const db = new Database(process.argv[2] + '/f.db', { readonly: true });
for (const q of process.argv.slice(3)) { try { console.log(q, '→', JSON.stringify(db.prepare(q).all()).slice(0, 1500)); } catch (e) { console.log(q, e.message); } }
