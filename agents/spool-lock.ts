/** A pid lock file so two agents never share one spool directory. */
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class SpoolLock {
  private constructor(private readonly file: string) {}

  static acquire(dir: string): SpoolLock {
    const file = join(dir, 'agent.pid');
    if (existsSync(file)) {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid && pid !== process.pid && alive(pid)) {
        throw new Error(`spool ${dir} is in use by another agent (pid ${pid}); give each agent its own --spool directory`);
      }
    }
    writeFileSync(file, String(process.pid));
    return new SpoolLock(file);
  }

  release(): void {
    try {
      if (existsSync(this.file) && readFileSync(this.file, 'utf8').trim() === String(process.pid)) unlinkSync(this.file);
    } catch {
      /* already gone */
    }
  }
}
