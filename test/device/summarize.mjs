#!/usr/bin/env node
/**
 * Summary of a device run (run-on-device.sh): reads OUT/frames.jsonl (capture hub), OUT/agent.log,
 * OUT/reference.csv (independent `nvidia-smi --format=csv -l 1`) and OUT/run.log (META lines,
 * NVML energy readings) and writes OUT/summary.txt. Plain Node, no dependencies.
 *
 *   node summarize.mjs OUT
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const OUT = process.argv[2] ?? process.env.OUT;
if (!OUT) {
  process.stderr.write('usage: summarize.mjs OUT\n');
  process.exit(2);
}
const text = (f) => (existsSync(path.join(OUT, f)) ? readFileSync(path.join(OUT, f), 'utf8') : '');
const lines = [];
const say = (s = '') => lines.push(s);
const checks = [];
const check = (ok, what) => checks.push(`${ok === null ? 'SKIP' : ok ? 'PASS' : 'FAIL'}  ${what}`);

// ---------- helpers ----------
const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : Math.abs(x) >= 1e6 ? x.toExponential(3) : x.toFixed(d));
const mean = (a) => (a.length ? a.reduce((s, x) => s + x, 0) / a.length : null);
const quant = (a, q) => {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const pct = (a, b) => (a === null || b === null || b === 0 ? null : ((a - b) / b) * 100);
const stats = (vals) => {
  const v = vals.filter((x) => typeof x === 'number');
  return { n: v.length, min: v.length ? Math.min(...v) : null, avg: mean(v), max: v.length ? Math.max(...v) : null };
};
const trapezoid = (pts) => {
  let j = 0;
  for (let i = 1; i < pts.length; i++) j += ((pts[i - 1].w + pts[i].w) / 2) * ((pts[i].t - pts[i - 1].t) / 1000);
  return j;
};
const pad = (s, w) => String(s).padEnd(w);
const lpad = (s, w) => String(s).padStart(w);
const iso = (ms) => (ms ? new Date(ms).toISOString() : '-');
/** Run one part of the summary; a bug or odd input in one part must not lose the others. */
const section = (name, fn) => {
  try {
    fn();
  } catch (err) {
    say(`(${name}: summary section failed: ${err?.stack ?? err})`);
    check(false, `summary section ${name} ran`);
  }
};

// ---------- inputs ----------
const meta = {};
const nvml = new Map(); // uuid -> [{t, mj}]
for (const l of text('run.log').split('\n')) {
  let m = /^META (\w+)=(.*)$/.exec(l);
  if (m) meta[m[1]] = m[2];
  m = /^NVML_ENERGY (\d+) (\S+) (\d+)$/.exec(l);
  if (m) {
    if (!nvml.has(m[2])) nvml.set(m[2], []);
    nvml.get(m[2]).push({ t: Number(m[1]), mj: Number(m[3]) });
  }
}
const recs = [];
let badLines = 0;
for (const l of text('frames.jsonl').split('\n')) {
  if (!l.trim()) continue;
  try {
    recs.push(JSON.parse(l));
  } catch {
    badLines++;
  }
}
const frames = recs.filter((r) => r.frame);
const hellos = frames.filter((r) => r.frame.type === 'hello');
const invs = frames.filter((r) => r.frame.type === 'inventory');
const batches = frames.filter((r) => r.frame.type === 'batch');
const rejected = recs.filter((r) => r.rejected);
const connects = recs.filter((r) => r.event === 'connect');
const intervalMs = hellos[0]?.frame.intervalMs ?? 1000;
const h = hellos[0]?.frame;
const allSamples = batches.flatMap((b) => (Array.isArray(b.frame.samples) ? b.frame.samples : []).map((s) => ({ ...s, at: b.at, seq: b.frame.seq })));
const chipIds = [...new Set([...(h?.chips ?? []).map((c) => c.chipId), ...allSamples.map((s) => s.chipId)])];
const byChip = new Map(chipIds.map((id) => [id, allSamples.filter((s) => s.chipId === id).sort((a, b) => a.ts - b.ts)]));

say('fleetscope device run: agent --source nvidia-smi -> capture hub');
say('='.repeat(72));
say(`when         ${iso(Number(meta.agent_start_ms))} .. ${iso(Number(meta.agent_stop_ms))}`);
for (const k of ['host', 'nvidia_smi', 'driver', 'node', 'agent_exit', 'agent_exit_reason', 'agent_retry', 'load', 'load_info', 'reference_rows'])
  if (meta[k] !== undefined) say(`${pad(k, 12)} ${meta[k]}`);

// ---------- capture ----------
section('capture', () => {
  say('\n## capture');
  const seqs = batches.map((b) => b.frame.seq);
  const uniqSeqs = new Set(seqs);
  const sortedSeqs = [...uniqSeqs].sort((a, b) => a - b);
  let seqHoles = 0;
  for (let i = 1; i < sortedSeqs.length; i++) seqHoles += sortedSeqs[i] - sortedSeqs[i - 1] - 1;
  const perBatch = batches.map((b) => b.frame.samples.length);
  say(`connections ${connects.length}, hello ${hellos.length}, inventory ${invs.length}, batches ${batches.length} (unique seq ${uniqSeqs.size}, seq ${sortedSeqs[0] ?? '-'}..${sortedSeqs.at(-1) ?? '-'}, holes ${seqHoles}), backfill ${batches.filter((b) => b.frame.backfill).length}`);
  say(`samples ${allSamples.length}; per batch min/median/max ${perBatch.length ? `${Math.min(...perBatch)}/${quant(perBatch, 0.5)}/${Math.max(...perBatch)}` : '-'}; rejected frames ${rejected.length}; unparsable capture lines ${badLines}`);
  for (const r of rejected.slice(0, 5)) say(`  rejected: ${r.rejected.code}: ${r.rejected.message}`);
  check(hellos.length >= 1, 'agent said hello');
  check(batches.length >= Math.floor((Number(meta.duration_s) || 60) * 1000 / intervalMs) * 0.8, `batches received: ${batches.length} (expected ~${Math.floor(((Number(meta.duration_s) || 60) * 1000) / intervalMs)})`);
  check(rejected.length === 0, `hub rejected ${rejected.length} frames`);
  check(seqHoles === 0, `seq holes: ${seqHoles}`);
});

// ---------- inventory ----------
section('inventory', () => {
  say('\n## inventory (hello)');
  if (h) {
    say(`agentId ${h.agentId}, agentVersion ${h.agentVersion}, host ${JSON.stringify(h.host)}, intervalMs ${h.intervalMs}`);
    for (const c of h.chips)
      say(`  [${c.index}] ${c.chipId}  ${c.vendor} ${c.model}  memTotalBytes ${c.memTotalBytes} (${fmt(c.memTotalBytes / 2 ** 30, 2)} GiB)  ratedPowerW ${c.ratedPowerW}  cores ${c.cores}`);
    for (const i of invs) say(`  inventory change at ${iso(i.at)}: ${i.frame.chips.map((c) => c.chipId).join(', ')}`);
  } else say('no hello captured');
});

// ---------- per-chip fields ----------
const FIELDS = ['utilPct', 'memUtilPct', 'powerW', 'powerLimitW', 'tempC', 'memUsedBytes', 'memTotalBytes', 'energyJ', 'smClockMhz', 'eccCorrected', 'eccUncorrected'];
const CORE = ['utilPct', 'powerW', 'tempC', 'memUsedBytes', 'energyJ'];
for (const [id, ss] of byChip) section(`chip ${id}`, () => {
  say(`\n## chip ${id}: ${ss.length} samples, ts ${iso(ss[0]?.ts)} .. ${iso(ss.at(-1)?.ts)}`);
  say(`  ${pad('field', 15)}${lpad('n', 6)}${lpad('null', 6)}${lpad('absent', 7)}${lpad('min', 14)}${lpad('avg', 14)}${lpad('max', 14)}`);
  for (const f of FIELDS) {
    const vals = ss.map((s) => s[f]);
    const st = stats(vals);
    const nulls = vals.filter((v) => v === null).length;
    const absent = vals.filter((v) => v === undefined).length;
    const mem = f === 'memUsedBytes' || f === 'memTotalBytes';
    if (mem) for (const k of ['min', 'avg', 'max']) st[k] = st[k] === null ? null : st[k] / 2 ** 20;
    const d = mem ? 0 : 2;
    say(`  ${pad(mem ? f.replace('Bytes', ' MiB') : f, 15)}${lpad(st.n, 6)}${lpad(nulls, 6)}${lpad(absent, 7)}${lpad(fmt(st.min, d), 14)}${lpad(fmt(st.avg, d), 14)}${lpad(fmt(st.max, d), 14)}`);
    if (CORE.includes(f)) check(nulls + absent === 0, `${id.slice(0, 12)} ${f}: ${nulls} null, ${absent} absent`);
  }
  const flags = {};
  for (const s of ss) for (const [k, v] of Object.entries(s.flags ?? {})) if (v) flags[k] = (flags[k] ?? 0) + 1;
  const extras = new Set(ss.flatMap((s) => Object.keys(s.extras ?? {})));
  say(`  flags ${JSON.stringify(flags)}${extras.size ? `, extras ${[...extras].join(',')}` : ''}`);

  // energy
  const pw = ss.filter((s) => typeof s.powerW === 'number').map((s) => ({ t: s.ts, w: s.powerW }));
  const en = ss.filter((s) => typeof s.energyJ === 'number');
  const dE = en.length >= 2 ? en.at(-1).energyJ - en[0].energyJ : null;
  const integ = pw.length >= 2 ? trapezoid(pw) : null;
  const spanS = ss.length >= 2 ? (ss.at(-1).ts - ss[0].ts) / 1000 : null;
  say(`  energy: energyJ delta ${fmt(dE, 1)} J over ${fmt(spanS, 1)} s; trapezoid of powerW ${fmt(integ, 1)} J (diff ${fmt(pct(dE, integ), 3)} %); mean power from energy ${fmt(dE !== null && spanS ? dE / spanS : null, 1)} W`);
  check(dE !== null && integ !== null && Math.abs(pct(dE, integ) ?? 100) < 1, `${id.slice(0, 12)} energyJ delta matches the power integral (${fmt(pct(dE, integ), 3)} %)`);
  let monotonic = true;
  for (let i = 1; i < en.length; i++) if (en[i].energyJ < en[i - 1].energyJ) monotonic = false;
  check(monotonic, `${id.slice(0, 12)} energyJ monotonic`);
  const hw = nvml.get(id);
  if (hw && hw.length >= 2 && ss.length >= 2) {
    // hardware counter (NVML total energy, mJ) interpolated at the first and last sample timestamps
    const at = (t) => {
      let i = hw.findIndex((p) => p.t >= t);
      if (i <= 0) i = i === 0 ? 1 : hw.length - 1;
      const a = hw[i - 1];
      const b = hw[i];
      return a.mj + ((b.mj - a.mj) * (t - a.t)) / Math.max(1, b.t - a.t);
    };
    const t0 = Math.max(ss[0].ts, hw[0].t);
    const t1 = Math.min(ss.at(-1).ts, hw.at(-1).t);
    const hwJ = (at(t1) - at(t0)) / 1000;
    const agentJ = en.length ? (() => {
      const inWin = pw.filter((p) => p.t >= t0 && p.t <= t1);
      return inWin.length >= 2 ? trapezoid(inWin) : null;
    })() : null;
    say(`  NVML energy counter over ${fmt((t1 - t0) / 1000, 1)} s: ${fmt(hwJ, 1)} J (${fmt(hwJ / ((t1 - t0) / 1000), 1)} W); agent integral over the same samples ${fmt(agentJ, 1)} J (diff ${fmt(pct(agentJ, hwJ), 2)} %)`);
    check(agentJ !== null && Math.abs(pct(agentJ, hwJ) ?? 100) < 10, `${id.slice(0, 12)} agent energy within 10 % of the NVML counter (${fmt(pct(agentJ, hwJ), 2)} %)`);
  } else say('  NVML energy counter: not available');

  // timing
  const gaps = [];
  for (let i = 1; i < ss.length; i++) gaps.push(ss[i].ts - ss[i - 1].ts);
  const dupTs = gaps.filter((g) => g === 0).length;
  const late = gaps.filter((g) => g > 1.5 * intervalMs).length;
  const lat = ss.map((s) => s.at - s.ts);
  say(`  sample gaps ms: min ${fmt(Math.min(...gaps), 0)} median ${fmt(quant(gaps, 0.5), 0)} p99 ${fmt(quant(gaps, 0.99), 0)} max ${fmt(Math.max(...gaps), 0)}; > 1.5x interval: ${late}; duplicate ts: ${dupTs}`);
  say(`  delivery latency (hub receive - sample ts) ms: median ${fmt(quant(lat, 0.5), 0)} p99 ${fmt(quant(lat, 0.99), 0)} max ${fmt(Math.max(...lat), 0)}`);
  check(gaps.length > 0 && quant(gaps, 0.99) <= 2 * intervalMs, `${id.slice(0, 12)} sample gap p99 ${fmt(quant(gaps, 0.99), 0)} ms <= 2x interval`);
});

// ---------- health ----------
section('health', () => {
  say('\n## agent-reported health (last batch)');
  const last = batches.at(-1)?.frame;
  for (const hl of last?.health ?? []) say(`  ${hl.kind}: state ${hl.state}, restarts ${hl.restarts}, parseErrors ${hl.parseErrors}, lastError ${JSON.stringify(hl.lastError)}`);
  if (last?.dropped) say(`  dropped ${JSON.stringify(last.dropped)}`);
  if (last?.health) check(last.health.every((x) => x.parseErrors === 0 && x.restarts === 0), 'no nvidia-smi parse errors or restarts');
});

// ---------- reference ----------
say('\n## independent reference: nvidia-smi --query-gpu=... --format=csv -l 1');
const refText = text('reference.csv').trim();
const refRows = [];
section('reference parse', () => {
  if (refText) {
    const [hd, ...rl] = refText.split('\n');
    const names = hd.split(',').map((x) => x.trim().replace(/ \[.*\]$/, ''));
    const num = (v) => {
      const m = /^(-?\d+(?:\.\d+)?)/.exec(v?.trim() ?? '');
      return m ? Number(m[1]) : null;
    };
    const tsOf = (s) => {
      const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(s.trim());
      return m ? new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], Number((m[7] ?? '0').padEnd(3, '0'))).getTime() : null;
    };
    for (const l of rl) {
      const c = l.split(',');
      if (c.length !== names.length) continue;
      const g = (n) => c[names.indexOf(n)];
      const ts = tsOf(g('timestamp') ?? '');
      if (ts === null) continue;
      refRows.push({ ts, uuid: (g('uuid') ?? '').trim(), util: num(g('utilization.gpu')), power: num(g('power.draw')), temp: num(g('temperature.gpu')), memMiB: num(g('memory.used')) });
    }
    say(`reference rows parsed: ${refRows.length} of ${rl.length}`);
  } else say('no reference output');
});

const loadStart = Number(meta.load_start_ms) || null;
const loadEnd = Number(meta.load_end_ms) || null;
for (const [id, ss] of byChip) section(`reference ${id}`, () => {
  if (ss.length < 2) return;
  const t0 = ss[0].ts;
  const t1 = ss.at(-1).ts;
  const ref = refRows.filter((r) => r.uuid === id && r.ts >= t0 && r.ts <= t1);
  if (!ref.length) {
    say(`  ${id}: no reference rows in the agent's window`);
    check(refText ? false : null, `${id.slice(0, 12)} reference rows in window`);
    return;
  }
  const a = (f) => mean(ss.map((s) => s[f]).filter((x) => typeof x === 'number'));
  const r = (f) => mean(ref.map((x) => x[f]).filter((x) => typeof x === 'number'));
  say(`  ${id}: window ${fmt((t1 - t0) / 1000, 1)} s, agent ${ss.length} samples, reference ${ref.length} rows`);
  say(`    ${pad('', 12)}${lpad('agent', 12)}${lpad('reference', 12)}${lpad('diff %', 10)}`);
  const rows = [
    ['power W', a('powerW'), r('power')],
    ['util %', a('utilPct'), r('util')],
    ['temp C', a('tempC'), r('temp')],
    ['mem MiB', a('memUsedBytes') === null ? null : a('memUsedBytes') / 2 ** 20, r('memMiB')],
  ];
  for (const [n, x, y] of rows) say(`    ${pad(n, 12)}${lpad(fmt(x, 1), 12)}${lpad(fmt(y, 1), 12)}${lpad(fmt(pct(x, y), 1), 10)}`);
  // pointwise: nearest agent sample within half an interval of each reference row
  const dp = [];
  const du = [];
  for (const row of ref) {
    let best = null;
    for (const s of ss) if (!best || Math.abs(s.ts - row.ts) < Math.abs(best.ts - row.ts)) best = s;
    if (!best || Math.abs(best.ts - row.ts) > intervalMs / 2) continue;
    if (typeof best.powerW === 'number' && row.power !== null) dp.push(Math.abs(best.powerW - row.power));
    if (typeof best.utilPct === 'number' && row.util !== null) du.push(Math.abs(best.utilPct - row.util));
  }
  say(`    nearest-sample pairs ${dp.length}: |d power| mean ${fmt(mean(dp), 1)} W p90 ${fmt(quant(dp, 0.9), 1)} W; |d util| mean ${fmt(mean(du), 1)} p90 ${fmt(quant(du, 0.9), 1)}`);
  const pp = pct(a('powerW'), r('power'));
  check(pp !== null && Math.abs(pp) < 10, `${id.slice(0, 12)} mean power within 10 % of reference (${fmt(pp, 1)} %)`);
  const ud = a('utilPct') !== null && r('util') !== null ? Math.abs(a('utilPct') - r('util')) : null;
  check(ud !== null && ud < 10, `${id.slice(0, 12)} mean util within 10 points of reference (${fmt(ud, 1)})`);

  if (loadStart && loadEnd) {
    say(`    load phase ${iso(loadStart)} .. ${iso(loadEnd)}:`);
    const phases = [['before', t0, loadStart], ['load', loadStart + 2000, loadEnd], ['after', loadEnd + 1000, t1 + 1]];
    for (const [name, p0, p1] of phases) {
      const s2 = ss.filter((s) => s.ts >= p0 && s.ts < p1);
      const r2 = ref.filter((x) => x.ts >= p0 && x.ts < p1);
      say(`      ${pad(name, 7)} agent n ${lpad(s2.length, 3)} power ${lpad(fmt(mean(s2.map((s) => s.powerW).filter((x) => x !== null)), 1), 7)} W util ${lpad(fmt(mean(s2.map((s) => s.utilPct).filter((x) => x !== null)), 1), 5)} %  | ref n ${lpad(r2.length, 3)} power ${lpad(fmt(mean(r2.map((x) => x.power).filter((x) => x !== null)), 1), 7)} W util ${lpad(fmt(mean(r2.map((x) => x.util).filter((x) => x !== null)), 1), 5)} %`);
    }
  }
});

// ---------- timeline ----------
for (const [id, ss] of [...byChip].slice(0, 8)) section(`timeline ${id}`, () => {
  if (ss.length < 2) return;
  say(`\n## timeline ${id} (5 s buckets; agent vs reference power)`);
  say(`  ${pad('t s', 6)}${lpad('n', 3)}${lpad('power W', 9)}${lpad('ref W', 9)}${lpad('util %', 8)}${lpad('ref %', 7)}${lpad('temp C', 8)}${lpad('mem GiB', 9)}${lpad('energy J', 11)}`);
  const t0 = ss[0].ts;
  for (let b = 0; b * 5000 <= ss.at(-1).ts - t0; b++) {
    const s2 = ss.filter((s) => s.ts - t0 >= b * 5000 && s.ts - t0 < (b + 1) * 5000);
    const r2 = refRows.filter((x) => x.uuid === id && x.ts - t0 >= b * 5000 && x.ts - t0 < (b + 1) * 5000);
    const m = (f) => mean(s2.map((s) => s[f]).filter((x) => typeof x === 'number'));
    say(`  ${pad(b * 5, 6)}${lpad(s2.length, 3)}${lpad(fmt(m('powerW'), 1), 9)}${lpad(fmt(mean(r2.map((x) => x.power).filter((x) => x !== null)), 1), 9)}${lpad(fmt(m('utilPct'), 0), 8)}${lpad(fmt(mean(r2.map((x) => x.util).filter((x) => x !== null)), 0), 7)}${lpad(fmt(m('tempC'), 0), 8)}${lpad(fmt(m('memUsedBytes') === null ? null : m('memUsedBytes') / 2 ** 30, 2), 9)}${lpad(fmt(s2.at(-1)?.energyJ ?? null, 0), 11)}`);
  }
});

// ---------- agent log ----------
section('agent log', () => {
  say('\n## agent log');
  const levels = {};
  const notable = [];
  let nonJson = 0;
  for (const l of text('agent.log').split('\n')) {
    if (!l.trim()) continue;
    try {
      const j = JSON.parse(l);
      levels[j.level] = (levels[j.level] ?? 0) + 1;
      if (j.level === 'warn' || j.level === 'error' || /stopped|started|GPUs found|fields|connected/.test(j.msg)) notable.push(l.length > 400 ? l.slice(0, 400) + '…' : l);
    } catch {
      nonJson++;
      notable.push(`(not json) ${l.slice(0, 300)}`);
    }
  }
  say(`lines by level ${JSON.stringify(levels)}, non-JSON lines ${nonJson}`);
  for (const l of notable.slice(0, 25)) say(`  ${l}`);
  check(meta.agent_exit === '0', `agent exit code ${meta.agent_exit ?? 'unknown'} after SIGTERM`);
  check(!levels.error, `agent logged ${levels.error ?? 0} errors`);
});

// ---------- verdict ----------
say('\n## checks');
for (const c of checks) say(`  ${c}`);
const fails = checks.filter((c) => c.startsWith('FAIL')).length;
say(`\n${fails === 0 ? 'ALL CHECKS PASSED' : `${fails} CHECK(S) FAILED`} (${checks.length} checks)`);

const out = lines.join('\n') + '\n';
writeFileSync(path.join(OUT, 'summary.txt'), out);
process.stdout.write(out);
