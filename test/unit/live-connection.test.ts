/**
 * client/src/live-connection.ts: the dashboard's one /ws/live connection, driven through its
 * `socketFactory` with fake sockets (the browser WebSocket is the true edge) and fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultLiveUrl, LiveConnection, type ConnectionState, type LiveConnectionOptions, type LiveHandler, type SocketLike } from '../../client/src/live-connection.ts';
import type { LiveServerMessage, LiveTopic } from '../../schema/protocol.ts';
import { sample } from '../helpers/frames.ts';

const URL = 'ws://hub.test/ws/live';
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** A browser-like socket the test opens, feeds and closes by hand. */
class FakeSocket implements SocketLike {
  readyState = CONNECTING;
  binaryType = 'blob';
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  readonly sent: any[] = [];
  readonly closeCalls: { code?: number; reason?: string }[] = [];
  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== OPEN) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string): void {
    this.closeCalls.push({ code, reason });
    this.readyState = 2;
  }
  /** The server accepted the connection. */
  open(): void {
    this.readyState = OPEN;
    this.onopen?.({});
  }
  /** The connection ended (server gone, or after our close()): error then close, like a browser. */
  drop(): void {
    this.readyState = CLOSED;
    this.onerror?.({});
    this.onclose?.({ code: 1006 });
  }
  receive(data: unknown): void {
    this.onmessage?.({ data });
  }
  msg(m: object): void {
    this.receive(JSON.stringify(m));
  }
}

let sockets: FakeSocket[];
let conn: LiveConnection | null;
const factory = (url: string) => {
  const s = new FakeSocket(url);
  sockets.push(s);
  return s;
};
const last = () => sockets[sockets.length - 1];

function make(opts: Partial<LiveConnectionOptions> = {}): LiveConnection {
  conn = new LiveConnection({ url: URL, minDelayMs: 100, maxDelayMs: 1000, connectTimeoutMs: 2000, stableAfterMs: 5000, socketFactory: factory, random: () => 0, ...opts });
  return conn;
}

const FLEET: LiveTopic = { topic: 'fleet' };
const CHIP_A: LiveTopic = { topic: 'chip', chipId: 'GPU-a' };
const CHIP_B: LiveTopic = { topic: 'chip', chipId: 'GPU-b' };
const FIREHOSE: LiveTopic = { topic: 'samples' };
const sub = (t: LiveTopic) => ({ v: 1, type: 'subscribe', sub: t });
const unsub = (t: LiveTopic) => ({ v: 1, type: 'unsubscribe', sub: t });
const T = 1_760_000_000_000;

function recorder() {
  const got: LiveServerMessage[] = [];
  const handler: LiveHandler = (m) => got.push(m);
  return { got, handler };
}

/** Advances fake time by `ms` and says whether a new socket was created meanwhile. */
function reconnectsWithin(ms: number): boolean {
  const before = sockets.length;
  vi.advanceTimersByTime(ms);
  return sockets.length > before;
}

/** The delay before the next socket is created, found by stepping 1 ms at a time (fails past `max`). */
function measureDelay(max = 5000): number {
  const before = sockets.length;
  for (let t = 1; t <= max; t++) {
    vi.advanceTimersByTime(1);
    if (sockets.length > before) return t;
  }
  throw new Error(`no reconnect within ${max} ms`);
}

/** The delay until `probe` reports a change (for attempts that create no socket). */
function measureDelayOf(probe: () => number, max = 5000): number {
  const before = probe();
  for (let t = 1; t <= max; t++) {
    vi.advanceTimersByTime(1);
    if (probe() !== before) return t;
  }
  throw new Error(`nothing happened within ${max} ms`);
}

beforeEach(() => {
  vi.useFakeTimers({ now: T });
  sockets = [];
  conn = null;
});
afterEach(() => {
  conn?.close();
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('connecting and subscribing', () => {
  it('opens lazily on the first subscribe, to the given URL, with binaryType arraybuffer', () => {
    const c = make();
    expect(sockets).toHaveLength(0);
    expect(c.state).toBe('closed');
    c.subscribe(FLEET, () => {});
    expect(sockets).toHaveLength(1);
    expect(last().url).toBe(URL);
    expect(last().binaryType).toBe('arraybuffer');
    expect(c.state).toBe('connecting');
  });

  it('start() opens once; further starts and subscribes reuse the socket', () => {
    const c = make();
    c.start();
    c.start();
    c.subscribe(FLEET, () => {});
    c.subscribe(CHIP_A, () => {});
    expect(sockets).toHaveLength(1);
  });

  it('sends a subscribe for every topic on open, each once', () => {
    const c = make();
    c.subscribe(FLEET, () => {});
    c.subscribe(CHIP_A, () => {});
    c.subscribe(CHIP_A, () => {}); // second handler of the same topic
    expect(last().sent).toEqual([]); // nothing sent before open
    last().open();
    expect(c.state).toBe('open');
    expect(last().sent).toEqual([sub(FLEET), sub(CHIP_A)]);
  });

  it('sends subscribe at once for a new topic while open, and not again for a second handler', () => {
    const c = make();
    c.subscribe(FLEET, () => {});
    last().open();
    c.subscribe(CHIP_B, () => {});
    c.subscribe(CHIP_B, () => {});
    c.subscribe(FIREHOSE, () => {});
    expect(last().sent).toEqual([sub(FLEET), sub(CHIP_B), sub(FIREHOSE)]);
    expect(c.handlerCount(CHIP_B)).toBe(2);
    expect(c.handlerCount(FIREHOSE)).toBe(1);
    expect(c.handlerCount(CHIP_A)).toBe(0);
  });

  it('sends unsubscribe only when the last handler of a topic leaves, and only once', () => {
    const c = make();
    const off1 = c.subscribe(CHIP_A, () => {});
    const off2 = c.subscribe(CHIP_A, () => {});
    last().open();
    last().sent.length = 0;
    off1();
    expect(last().sent).toEqual([]);
    expect(c.handlerCount(CHIP_A)).toBe(1);
    off1(); // calling a remover twice does nothing
    expect(c.handlerCount(CHIP_A)).toBe(1);
    off2();
    expect(last().sent).toEqual([unsub(CHIP_A)]);
    expect(c.handlerCount(CHIP_A)).toBe(0);
    off2();
    expect(last().sent).toEqual([unsub(CHIP_A)]);
    // A new handler subscribes again.
    c.subscribe(CHIP_A, () => {});
    expect(last().sent).toEqual([unsub(CHIP_A), sub(CHIP_A)]);
  });

  it('a topic left while disconnected is not subscribed on open', () => {
    const c = make();
    const off = c.subscribe(CHIP_A, () => {});
    c.subscribe(FLEET, () => {});
    off();
    last().open();
    expect(last().sent).toEqual([sub(FLEET)]);
  });

  it('defaults the URL to /ws/live on the page host, wss for https pages', () => {
    vi.stubGlobal('location', { protocol: 'https:', host: 'dash.example:8443' });
    expect(defaultLiveUrl()).toBe('wss://dash.example:8443/ws/live');
    vi.stubGlobal('location', { protocol: 'http:', host: 'localhost:7070' });
    expect(defaultLiveUrl()).toBe('ws://localhost:7070/ws/live');
    const c = make({ url: undefined });
    c.start();
    expect(last().url).toBe('ws://localhost:7070/ws/live');
  });
});

describe('routing messages', () => {
  it('gives each topic its share: fleet all but chip histories, a chip its own, the firehose samples', () => {
    const c = make();
    const fleet = recorder();
    const a = recorder();
    const b = recorder();
    const fire = recorder();
    c.subscribe(FLEET, fleet.handler);
    c.subscribe(CHIP_A, a.handler);
    c.subscribe(CHIP_B, b.handler);
    c.subscribe(FIREHOSE, fire.handler);
    last().open();

    const samples = { v: 1, type: 'samples', samples: [sample('GPU-a', T), sample('GPU-c', T)] };
    last().msg(samples);
    expect(fleet.got).toEqual([samples]);
    expect(fire.got).toEqual([samples]);
    expect(a.got).toEqual([{ v: 1, type: 'samples', samples: [sample('GPU-a', T)] }]);
    expect(b.got).toEqual([]);

    const history = { v: 1, type: 'chip-history', chipId: 'GPU-b', samples: [sample('GPU-b', T)] };
    last().msg(history);
    expect(b.got).toEqual([history]);
    expect(fleet.got).toHaveLength(1);
    expect(a.got).toHaveLength(1);
    expect(fire.got).toHaveLength(1);

    const status = { v: 1, type: 'status', changes: [{ chipId: 'GPU-a', status: 'stale' }, { chipId: 'GPU-b', status: 'live' }] };
    last().msg(status);
    expect(fleet.got.at(-1)).toEqual(status);
    expect(a.got.at(-1)).toEqual({ v: 1, type: 'status', changes: [{ chipId: 'GPU-a', status: 'stale' }] });
    expect(b.got.at(-1)).toEqual({ v: 1, type: 'status', changes: [{ chipId: 'GPU-b', status: 'live' }] });
    expect(fire.got).toHaveLength(1);

    const error = { v: 1, type: 'error', code: 'bad_request', message: 'nope' };
    last().msg(error);
    for (const r of [fleet, a, b, fire]) expect(r.got.at(-1)).toEqual(error);
  });

  it('delivers to every handler of a topic, and no longer to a removed one', () => {
    const c = make();
    const one = recorder();
    const two = recorder();
    const off = c.subscribe(FLEET, one.handler);
    c.subscribe(FLEET, two.handler);
    last().open();
    const m = { v: 1, type: 'fleet-snapshot', chips: [] };
    last().msg(m);
    off();
    last().msg(m);
    expect(one.got).toHaveLength(1);
    expect(two.got).toHaveLength(2);
  });

  it('decodes binary frames (ArrayBuffer and typed arrays) as UTF-8 JSON', () => {
    const c = make();
    const r = recorder();
    c.subscribe(FLEET, r.handler);
    last().open();
    const m = { v: 1, type: 'fleet-snapshot', chips: [] };
    const bytes = new TextEncoder().encode(JSON.stringify(m));
    last().receive(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    last().receive(bytes);
    expect(r.got).toEqual([m, m]);
  });

  it('ignores frames that are not JSON, not v1 messages, or of an unknown kind of data', () => {
    const c = make();
    const r = recorder();
    c.subscribe(FLEET, r.handler);
    last().open();
    last().receive('{not json');
    last().receive(JSON.stringify({ v: 2, type: 'fleet-snapshot', chips: [] }));
    last().receive(JSON.stringify({ v: 1 }));
    last().receive(JSON.stringify([1, 2]));
    last().receive(42);
    last().receive(null);
    expect(r.got).toEqual([]);
    expect(c.state).toBe('open');
  });

  it('a throwing handler does not keep the others from their messages', () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const c = make();
    const r = recorder();
    c.subscribe(FLEET, () => {
      throw new Error('boom');
    });
    c.subscribe(FLEET, r.handler);
    last().open();
    last().msg({ v: 1, type: 'fleet-snapshot', chips: [] });
    expect(r.got).toHaveLength(1);
    expect(err).toHaveBeenCalledTimes(1);
  });
});

describe('state changes', () => {
  it('reports the current state at once, then every change, until removed', () => {
    const c = make();
    const states: ConnectionState[] = [];
    const off = c.onStateChange((s) => states.push(s));
    expect(states).toEqual(['closed']);
    c.start();
    last().open();
    last().drop();
    vi.advanceTimersByTime(50);
    expect(states).toEqual(['closed', 'connecting', 'open', 'closed', 'connecting']);
    off();
    last().open();
    expect(states).toHaveLength(5);
    expect(c.state).toBe('open');
  });
});

describe('reconnecting', () => {
  it('reconnects after the backoff delay and re-subscribes every active topic on the new socket', () => {
    const c = make();
    const r = recorder();
    c.subscribe(FLEET, r.handler);
    c.subscribe(CHIP_A, () => {});
    const off = c.subscribe(CHIP_B, () => {});
    last().open();
    off();
    const first = last();
    first.drop();
    expect(c.state).toBe('closed');
    // random 0 -> half the 100 ms ceiling.
    expect(reconnectsWithin(49)).toBe(false);
    expect(reconnectsWithin(1)).toBe(true);
    expect(c.state).toBe('connecting');
    last().open();
    expect(last().sent).toEqual([sub(FLEET), sub(CHIP_A)]);
    // The old socket's late frames are ignored; the new socket's arrive.
    first.msg({ v: 1, type: 'fleet-snapshot', chips: [] });
    expect(r.got).toEqual([]);
    last().msg({ v: 1, type: 'fleet-snapshot', chips: [] });
    expect(r.got).toHaveLength(1);
  });

  it('grows the delay by 2x per failed attempt up to maxDelayMs (random 0: half the ceiling)', () => {
    const c = make({ random: () => 0 });
    c.start();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      last().drop();
      delays.push(measureDelay());
    }
    expect(delays).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect(sockets).toHaveLength(8);
  });

  it('uses the random source for jitter within [ceiling/2, ceiling]', () => {
    const c = make({ random: () => 0.5 });
    c.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      last().drop();
      delays.push(measureDelay());
    }
    expect(delays).toEqual([75, 150, 300, 600, 750, 750]);
  });

  it('keeps growing the delay for connections that open but drop before stableAfterMs', () => {
    const c = make();
    c.start();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      last().open();
      vi.advanceTimersByTime(4999);
      last().drop();
      delays.push(measureDelay());
    }
    expect(delays).toEqual([50, 100, 200, 400]);
  });

  it('resets the backoff after a connection stayed open stableAfterMs', () => {
    const c = make();
    c.start();
    for (let i = 0; i < 4; i++) {
      last().drop();
      measureDelay();
    }
    last().drop();
    expect(measureDelay()).toBe(500); // capped by now
    last().open();
    vi.advanceTimersByTime(5000);
    last().drop();
    expect(measureDelay()).toBe(50); // back to the first delay
    last().drop();
    expect(measureDelay()).toBe(100);
  });

  it('retries with backoff when the socket factory throws', () => {
    let calls = 0;
    const c = make({
      socketFactory: (url) => {
        if (++calls <= 2) throw new Error('SecurityError');
        return factory(url);
      },
    });
    c.start();
    expect(calls).toBe(1);
    expect(sockets).toHaveLength(0);
    expect(c.state).toBe('closed');
    expect(measureDelayOf(() => calls)).toBe(50); // first retry (throws too)
    expect(sockets).toHaveLength(0);
    expect(measureDelay()).toBe(100); // second retry works
    expect(calls).toBe(3);
    expect(c.state).toBe('connecting');
  });
});

describe('connect timeout', () => {
  it('abandons a socket that has not opened after connectTimeoutMs, then reconnects with backoff', () => {
    const c = make();
    c.start();
    const stuck = last();
    vi.advanceTimersByTime(1999);
    expect(stuck.closeCalls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(stuck.closeCalls).toHaveLength(1);
    expect(sockets).toHaveLength(1);
    // The browser fires close for the abandoned socket; a reconnect follows after the backoff.
    stuck.drop();
    expect(c.state).toBe('closed');
    expect(measureDelay()).toBe(50);
    expect(sockets).toHaveLength(2);
  });

  it('does not close a socket that opened in time', () => {
    const c = make();
    c.start();
    vi.advanceTimersByTime(1000);
    last().open();
    vi.advanceTimersByTime(10_000);
    expect(last().closeCalls).toEqual([]);
    expect(c.state).toBe('open');
    expect(sockets).toHaveLength(1);
  });

  it('a socket that dropped before opening does not get closed later by its stale timer', () => {
    const c = make();
    c.start();
    const first = last();
    first.drop();
    vi.advanceTimersByTime(50);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1990); // past the first socket's timeout, not the second's
    expect(first.closeCalls).toEqual([]);
    expect(last().closeCalls).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(last().closeCalls).toHaveLength(1);
  });
});

describe('close()', () => {
  it('closes the socket with 1000 and never reconnects', () => {
    const c = make();
    const r = recorder();
    c.subscribe(FLEET, r.handler);
    const s = last();
    s.open();
    c.close();
    expect(s.closeCalls).toEqual([{ code: 1000, reason: 'client closed' }]);
    expect(c.state).toBe('closed');
    // Its handlers are detached: a late close or message does nothing.
    expect(s.onclose).toBeNull();
    expect(s.onmessage).toBeNull();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    c.start();
    c.subscribe(CHIP_A, () => {});
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('cancels a pending reconnect', () => {
    const c = make();
    c.start();
    last().drop();
    c.close();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    expect(c.state).toBe('closed');
  });

  it('cancels the connect timeout of a socket still connecting', () => {
    const c = make();
    c.start();
    const s = last();
    c.close();
    expect(s.closeCalls).toHaveLength(1);
    vi.advanceTimersByTime(60_000);
    expect(s.closeCalls).toHaveLength(1);
    expect(sockets).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('before start: nothing is ever opened', () => {
    const c = make();
    c.close();
    c.subscribe(FLEET, () => {});
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(0);
  });
});

describe('pause() and resume() (signed out / signed in)', () => {
  it('pause closes the socket and stops reconnecting; subscriptions are kept and re-sent on resume, which connects at once', () => {
    const c = make();
    const r = recorder();
    c.subscribe(FLEET, r.handler);
    const s = last();
    s.open();
    c.pause();
    expect(c.isPaused).toBe(true);
    expect(s.closeCalls).toEqual([{ code: 1000, reason: 'client closed' }]);
    expect(c.state).toBe('closed');
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    c.subscribe(CHIP_A, () => {});
    expect(sockets).toHaveLength(1);
    c.resume();
    expect(sockets).toHaveLength(2);
    last().open();
    expect(last().sent).toEqual([sub(FLEET), sub(CHIP_A)]);
    expect(c.handlerCount(FLEET)).toBe(1);
  });

  it('paused before the first subscribe: nothing opens until resume', () => {
    const c = make();
    c.pause();
    c.subscribe(FLEET, () => {});
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(0);
    c.resume();
    expect(sockets).toHaveLength(1);
  });

  it('resume during a backoff wait reconnects now, with the backoff reset', () => {
    const c = make();
    c.start();
    for (let i = 0; i < 4; i++) {
      last().drop();
      vi.advanceTimersByTime(1000);
    }
    last().drop();
    const before = sockets.length;
    c.resume();
    expect(sockets).toHaveLength(before + 1);
    last().drop();
    expect(measureDelay()).toBe(50); // attempt 0 again: half of minDelayMs with random 0
  });

  it('resume while connected or before start does nothing', () => {
    const c = make();
    c.resume();
    expect(sockets).toHaveLength(0);
    c.start();
    last().open();
    c.resume();
    expect(sockets).toHaveLength(1);
  });
});

describe('onConnectFailure', () => {
  it('hears of a socket that closed without opening (refused upgrade, timeout), not of one that opened', () => {
    const c = make();
    let failures = 0;
    const off = c.onConnectFailure(() => failures++);
    c.start();
    last().drop();
    expect(failures).toBe(1);
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(2000); // connect timeout: closed by us, then the close event
    last().drop();
    expect(failures).toBe(2);
    vi.advanceTimersByTime(1000);
    last().open();
    last().drop();
    expect(failures).toBe(2);
    off();
    vi.advanceTimersByTime(1000);
    last().drop();
    expect(failures).toBe(2);
  });

  it('a listener that pauses stops the reconnects', () => {
    const c = make();
    c.onConnectFailure(() => c.pause());
    c.start();
    last().drop();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    expect(c.state).toBe('closed');
  });
});
