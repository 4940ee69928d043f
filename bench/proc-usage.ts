/** CPU time, resident memory and bytes written to storage of a process, from /proc (Linux). */
import { readFileSync } from 'node:fs';

const CLK_TCK = 100;

export interface ProcUsage {
  /** user + system CPU seconds so far */
  cpuS: number;
  rssBytes: number;
  /** Bytes the process caused to be written to storage so far (`write_bytes` of /proc/<pid>/io; 0 where unreadable). */
  writeBytes: number;
}

export function procUsage(pid: number): ProcUsage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] = utime, fields[12] = stime (man 5 proc, counting from field 3)
  const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS, rssBytes: rss ? Number(rss[1]) * 1024 : 0, writeBytes: writtenBytes(pid) };
}

function writtenBytes(pid: number): number {
  try {
    const m = /^write_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
