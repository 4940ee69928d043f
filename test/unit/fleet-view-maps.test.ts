/**
 * Every chip view shares one hidden class, whichever path made it: the fleet state reads view
 * properties for every sample, status check and agent frame, and views of a class each (as
 * spreading their parts gave them) made each read a megamorphic lookup. Checked in a child
 * process with V8's natives syntax (test/helpers/fleet-view-maps.ts).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../helpers/fleet-view-maps.ts', import.meta.url));

describe('chip views', () => {
  it('share one hidden class across hellos, stored chips, moves, remote chips, jobs and samples', () => {
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', script], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.views).toBe(40 * 16 + 16 + 16);
    expect(r.maps).toBe(1);
    // A cleared job is left out of the JSON, as when the property was deleted; a set one stays.
    expect(r.clearedJobJson).toBe(false);
    expect(r.setJob).toBe('job-1');
  });
});
