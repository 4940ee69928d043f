import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../server/alerts/webhook-payload.ts';
import { createPrng } from '../../agents/sources/prng.ts';

/** FNV-1a 64 as its definition reads, in BigInt: the oracle for the limb arithmetic of fingerprint(). */
function fnvReference(labels: Record<string, string>): string {
  let h = 0xcbf29ce484222325n;
  const add = (b: number) => (h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn);
  for (const name of Object.keys(labels).sort()) {
    for (const b of Buffer.from(name, 'utf8')) add(b);
    add(0xff);
    for (const b of Buffer.from(labels[name]!, 'utf8')) add(b);
    add(0xff);
  }
  return h.toString(16).padStart(16, '0');
}

describe('fingerprint', () => {
  it.each([
    ['no labels', {}, 'cbf29ce484222325'],
    ['one label', { alertname: 'ChipHot' }, fnvReference({ alertname: 'ChipHot' })],
    ['labels out of order, non-ASCII', { zone: 'eu-west-1a', chip: 'GPU-0', alertname: 'Überhitzt 🔥' }, fnvReference({ zone: 'eu-west-1a', chip: 'GPU-0', alertname: 'Überhitzt 🔥' })],
  ])('%s', (_name, labels, expected) => {
    expect(fingerprint(labels)).toBe(expected);
    expect(fingerprint(labels)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('equals FNV-1a 64 computed with BigInt on 2,000 random label sets', () => {
    const rng = createPrng(11);
    const chars = 'abcXYZ09-_/.:é漢🔥\u0000\u00ff';
    const text = () => Array.from({ length: rng.int(0, 40) }, () => [...chars][rng.int(0, [...chars].length - 1)]).join('');
    for (let i = 0; i < 2000; i++) {
      const labels: Record<string, string> = {};
      for (let k = rng.int(0, 12); k > 0; k--) labels[`l${text()}`] = text();
      expect(fingerprint(labels)).toBe(fnvReference(labels));
    }
  });
});
