#!/usr/bin/env node
/**
 * Fake `nvidia-smi` for trying the device kit without a GPU (test/device/try-kit-locally.sh).
 * Like the fake in test/integration/nvidia-smi-source.test.ts it answers `--help-query-gpu` with the
 * real H100 driver's output and streams rows of the real H100 capture, but it also covers what
 * run-on-device.sh calls: `-L`, `--version`, `-q`, the bare table, and `--format=csv` with header and
 * units and `-l SECONDS`. Rows carry the current time; the row shown is chosen by the wall clock
 * (capture rows are 250 ms apart, looped), so concurrent fakes report the same values at the same time.
 * FAKE_NVSMI_FIXTURES overrides the fixture folder (default test/fixtures/nvidia-h100).
 */
const fs = require('fs');
const path = require('path');

const FIX = process.env.FAKE_NVSMI_FIXTURES || path.resolve(__dirname, '../fixtures/nvidia-h100');
const read = (f) => fs.readFileSync(path.join(FIX, f), 'utf8');
const args = process.argv.slice(2);
const out = (s) => process.stdout.write(s);

const [head, ...lines] = read('query-gpu-250ms.csv').trim().split('\n');
const headerCells = head.split(', ');
const names = headerCells.map((h) => h.replace(/ \[.*\]$/, ''));
const rows = lines.map((l) => l.split(', '));
const col = (name) => names.indexOf(name);
const first = rows[0];

if (args.includes('--help-query-gpu')) out(read('nvidia-smi-help-query-gpu.txt'));
else if (args.includes('-L')) out(`GPU 0: ${first[col('name')]} (UUID: ${first[col('uuid')]})\n`);
else if (args.includes('--version')) out(`NVIDIA-SMI version  : ${first[col('driver_version')]} (fake)\nNVML version        : ${first[col('driver_version')]}\nDRIVER version      : ${first[col('driver_version')]}\nCUDA Version        : 13.0\n`);
else if (args.includes('-q')) out(`\n==============NVSMI LOG==============\n\n(fake nvidia-smi: the real -q -x capture follows)\n${read('nvidia-smi-q.xml')}`);
else if (args.length === 0) out(read('nvidia-smi.txt'));
else query();

function query() {
  const q = args.find((a) => a.startsWith('--query-gpu='));
  const f = args.find((a) => a.startsWith('--format='));
  if (!q || !f) {
    process.stderr.write(`fake nvidia-smi: unexpected arguments ${args.join(' ')}\n`);
    process.exit(2);
  }
  const fmt = f.slice('--format='.length).split(',');
  const header = !fmt.includes('noheader');
  const units = !fmt.includes('nounits');
  const fields = q.slice('--query-gpu='.length).split(',');
  const cols = fields.map(col);
  const unknown = fields.find((_, i) => cols[i] < 0);
  if (unknown) {
    out(`Field "${unknown}" is not a valid field to query.\n\n`);
    process.exit(2);
  }
  const lms = args.indexOf('-lms');
  const ls = args.indexOf('-l');
  const everyMs = lms >= 0 ? Number(args[lms + 1]) : ls >= 0 ? Number(args[ls + 1]) * 1000 : 0;
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const stamp = (d) => `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const emit = () => {
    const now = new Date();
    const r = rows[Math.floor(now.getTime() / 250) % rows.length];
    const cells = cols.map((c) => (names[c] === 'timestamp' ? stamp(now) : units ? r[c] : r[c].replace(/ (%|W|MiB|MHz)$/, '')));
    out(cells.join(', ') + '\n');
  };
  if (header) out(fields.map((_, i) => (units ? headerCells[cols[i]] : names[cols[i]])).join(', ') + '\n');
  emit();
  if (everyMs > 0) setInterval(emit, everyMs);
}
