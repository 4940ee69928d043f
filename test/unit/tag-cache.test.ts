import { describe, expect, it } from 'vitest';
import { parseLineProtocol, type Tags } from '../../server/line-protocol/parse-line-protocol.ts';
import { detached, TagCache } from '../../server/line-protocol/tag-cache.ts';

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);

describe('TagCache', () => {
  it('keeps the entries of the last two generations; an entry read from the older one stays', () => {
    const cache = new TagCache<number>(3);
    for (const k of ['a', 'b', 'c']) cache.set(k, k.charCodeAt(0));
    // The young generation is full: d starts a new one, a b c are the old one.
    cache.set('d', 100);
    expect([cache.get('a'), cache.get('d'), cache.size]).toEqual([97, 100, 4]);
    // a moved to the young generation (now a d); e fills it; f drops the old one (b c).
    cache.set('e', 101);
    cache.set('f', 102);
    const cases: [string, number | undefined][] = [['a', 97], ['b', undefined], ['c', undefined], ['d', 100], ['e', 101], ['f', 102]];
    for (const [key, want] of cases) expect(cache.get(key), key).toBe(want);
  });

  it('detached copies equal the text they were cut from', () => {
    const body = `chip,host=${'h'.repeat(40)},chip=GPU-0 util_pct=1`;
    for (const [a, b] of [[0, 4], [5, 47], [0, body.length], [10, 11]]) expect(detached(body.slice(a, b))).toBe(body.slice(a, b));
  });
});

describe('tag sections cached across bodies', () => {
  it("a chip's later lines reuse the first line's strings; a changed tag section is parsed anew", () => {
    const cache = new TagCache<Tags>();
    const parse = (body: string) => {
      const r = parseLineProtocol(body, NOW, 'ns', undefined, cache);
      if (!r.ok) throw new Error(r.message);
      return r.points;
    };
    const [a] = parse('chip,host=node-0001,chip=GPU-0123456789abcdef,vendor=nvidia,model=H100 util_pct=1');
    const [b, c] = parse('chip,host=node-0001,chip=GPU-0123456789abcdef,vendor=nvidia,model=H100 util_pct=2\nchip,host=node-0001,chip=GPU-0123456789abcdef,vendor=nvidia,model=H200 util_pct=3');
    expect([b.sample.chipId, b.host, b.model, b.sample.utilPct]).toEqual([a.sample.chipId, a.host, 'H100', 2]);
    // Object.is on strings compares text, so identity is checked through the cache itself.
    expect(cache.size).toBe(2);
    expect([c.model, c.sample.utilPct]).toEqual(['H200', 3]);
    // A bad tag section is refused every time, not cached.
    for (let k = 0; k < 2; k++) {
      const r = parseLineProtocol('chip,host=node-0001,chip=GPU 0,vendor=nvidia,model=H100 util_pct=1', NOW, 'ns', undefined, cache);
      expect(r.ok).toBe(false);
    }
    expect(cache.size).toBe(2);
  });
});
