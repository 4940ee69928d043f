const D=require('better-sqlite3'); const db=new D(process.argv[2]);
for (const s of process.argv.slice(3)) console.log(JSON.stringify(s.startsWith('pragma')?db.pragma(s.slice(7)):db.prepare(s).all()));
