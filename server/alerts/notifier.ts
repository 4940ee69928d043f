/**
 * The notifier: the AlertSink that turns alert transitions into notifications.
 *
 * For each transition into `firing`, and out of `firing` (resolved) for receivers with
 * `sendResolved`, each receiver whose matchers match the alert's labels gets it, unless a silence
 * matches (a silenced alert is not sent; if the silence ends while it still fires, it is sent
 * then; its resolution is not sent when its firing never was). Transitions go into groups (one
 * per receiver and values of its `groupBy` labels): the first transition of a group writes a row
 * to the outbox at once, due at the end of the receiver's grouping window (`groupWait`); later
 * transitions within the window rewrite that row's body (an alert appears once, with its latest
 * status). The row's Idempotency-Key is that of its first transition. The delivery worker
 * (delivery.ts) sends rows, retries them and keeps dead letters.
 *
 * `alertmanager` receivers are also sent the alerts still firing every `repeatInterval` (as
 * Prometheus re-sends to Alertmanager), each valid for 4 intervals, and a resolved alert once with
 * its endsAt. A hub that restarts learns what fires from the engine (`resume`).
 *
 * Receivers come from the REST API (source 'api'), the rules file ('file', `setFileReceivers`)
 * and the `--webhook` flag ('flag', `setFlagReceiver`); silences from the REST API.
 *
 * On SQLite (`db`) the outbox and the receivers live in the hub's file and every step is
 * synchronous; on PostgreSQL (`backend`, hub-database.ts) the outbox answers with promises, so
 * transitions are queued in turn (`serially`), in the order they came.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.ts';
import { silentLogger } from '../../common/logger.ts';
import { durationMs } from '../../schema/duration.ts';
import { DEFAULT_GROUP_WAIT, DEFAULT_RATE_LIMIT, DEFAULT_REPEAT_INTERVAL, receiverSpecSchema, type ReceiverPut, type ReceiverSpec, type SilenceBody } from '../../schema/alert-notify.ts';
import type { AlertEvent, AlertSink } from './alert-events.ts';
import { Delivery, type DeliveryOptions, type DeliveryTarget } from './delivery.ts';
import { compileMatchers, type CompiledMatcher, type LabelSet } from '../../schema/alert-matchers.ts';
import { NotifyStore, type NotifyStoreApi, type ReceiverSource, type Silence, type StoredReceiver } from './notify-store.ts';
import { openNotifyConnection, Outbox, type OutboxRow } from './outbox.ts';
import { after, eachInTurn, type Maybe, type OutboxApi } from './outbox-api.ts';
import { chipUrl, notificationBody } from './senders.ts';
import { formatValue } from './templates.ts';
import { idempotencyKey, type WebhookAlertInput } from './webhook-payload.ts';

/** Name of the catch-all receiver `fleetscope hub --webhook URL` adds. */
export const FLAG_RECEIVER_NAME = 'flag-webhook';
/** How long delivered rows and dead letters stay in the outbox, and ended silences are listed. */
export const KEEP_DONE_MS = 7 * 86_400_000;
export const KEEP_DEAD_MS = 30 * 86_400_000;
export const KEEP_ENDED_SILENCES_MS = 7 * 86_400_000;
/** A firing alert sent to Alertmanager is valid for this many resend intervals (Prometheus: 4). */
const VALID_INTERVALS = 4;
const PRUNE_EVERY_MS = 3_600_000;

/** Outbox and receivers not in an SQLite file (PostgreSQL: pg-outbox.ts, pg-notify-store.ts). */
export interface NotifierBackend {
  outbox: OutboxApi;
  store: NotifyStoreApi & { watch?(onChange: () => void, onBadRow?: (name: string, err: string) => void): void };
  close(): Promise<void>;
}

export interface NotifierOptions {
  /** The hub's database file (unless `backend` is given). */
  db?: string;
  backend?: NotifierBackend;
  log?: Logger;
  /** The hub's URL as users reach it (alerts link to their chip under it). */
  externalUrl: () => string;
  now?: () => number;
  /** Delivery tuning: request timeout, retry policy and jitter, longest sleep. */
  delivery?: Omit<DeliveryOptions, 'log' | 'now'>;
  /** How often re-sends to Alertmanager and ended silences are looked at (default 1 s). */
  tickMs?: number;
}

/** Refusals the REST routes answer as 404 and 409. */
export class NotifyError extends Error {
  constructor(
    readonly reason: 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

interface ActiveReceiver {
  spec: ReceiverSpec;
  source: ReceiverSource;
  match: CompiledMatcher;
  groupWaitMs: number;
  repeatMs: number;
  target: DeliveryTarget;
}

interface ActiveSilence extends Silence {
  match: CompiledMatcher;
}

interface OpenGroup {
  receiver: string;
  rowId: number;
  sendAt: number;
  /** By fingerprint, in the order they joined. */
  alerts: Map<string, WebhookAlertInput>;
}

export type SilenceState = 'pending' | 'active' | 'expired';

export function silenceState(s: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): SilenceState {
  return now >= s.endsAt ? 'expired' : now < s.startsAt ? 'pending' : 'active';
}

const msOf = (text: string, fallback: string) => durationMs(text) ?? durationMs(fallback)!;

function activate(r: StoredReceiver): ActiveReceiver {
  const s = r.spec;
  return {
    spec: s,
    source: r.source,
    match: compileMatchers(s.matchers),
    groupWaitMs: msOf(s.groupWait, DEFAULT_GROUP_WAIT),
    repeatMs: msOf(s.repeatInterval, DEFAULT_REPEAT_INTERVAL),
    target: { url: s.url, secret: s.secret, rateLimit: { count: s.rateLimit.count, perMs: msOf(s.rateLimit.per, DEFAULT_RATE_LIMIT.per) } },
  };
}

const SOURCE_NAMES: Record<ReceiverSource, string> = { api: 'the API', file: 'the rules file', flag: 'the --webhook flag' };

export class Notifier implements AlertSink {
  private readonly box: OutboxApi;
  private readonly sqliteOutbox: Outbox | null;
  private readonly backend: NotifierBackend | null;
  private readonly store: NotifyStoreApi;
  /** Queueing work that waits for the outbox (PostgreSQL); null while none does. */
  private serial: Promise<void> | null = null;
  private readonly delivery: Delivery;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly externalUrl: () => string;
  private readonly tickMs: number;
  private active = new Map<string, ActiveReceiver>();
  private silenceList: ActiveSilence[] = [];
  /** Alerts firing now, by fingerprint. */
  private readonly firing = new Map<string, AlertEvent>();
  /** Firing alerts a silence kept from a receiver: `receiver\0fingerprint`. */
  private readonly suppressed = new Map<string, { receiver: string; fingerprint: string }>();
  /** Groups whose window is open: `receiver\0group values`. */
  private readonly groups = new Map<string, OpenGroup>();
  /** When each alertmanager receiver was last sent its firing alerts. */
  private readonly lastSent = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private lastPrune = 0;
  private closed = false;

  constructor(opts: NotifierOptions) {
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.externalUrl = opts.externalUrl;
    this.tickMs = opts.tickMs ?? 1000;
    const onBadRow = (name: string, err: string) => this.log.error('alert receiver ignored: its stored form is invalid', { receiver: name, err });
    this.backend = opts.backend ?? null;
    if (opts.backend) {
      this.sqliteOutbox = null;
      this.box = opts.backend.outbox;
      this.store = opts.backend.store;
      opts.backend.store.watch?.(() => {
        this.reloadReceivers();
        this.reloadSilences();
      }, onBadRow);
    } else {
      if (opts.db === undefined) throw new Error('Notifier: give db (an SQLite file) or backend');
      const conn = openNotifyConnection(opts.db);
      this.sqliteOutbox = new Outbox(conn);
      this.box = this.sqliteOutbox;
      this.store = new NotifyStore(conn, onBadRow);
    }
    this.delivery = new Delivery(this.box, (name) => this.active.get(name)?.target, { ...opts.delivery, log: this.log, now: this.now });
    this.reloadReceivers();
    this.reloadSilences();
  }

  /** The SQLite outbox (tests, diagnostics); on PostgreSQL use `outboxApi`. */
  get outbox(): Outbox {
    if (!this.sqliteOutbox) throw new Error('the notifier has no SQLite outbox (PostgreSQL: use outboxApi)');
    return this.sqliteOutbox;
  }

  get outboxApi(): OutboxApi {
    return this.box;
  }

  /** Notifications of a receiver waiting to be sent (PostgreSQL: as of the last look at the outbox). */
  pendingCount(receiver: string): number {
    return this.box.pendingCount(receiver);
  }

  /** Resolves once the transitions published so far are in the outbox. */
  async settled(): Promise<void> {
    while (this.serial) await this.serial;
  }

  /** Runs `task` now, or after the queued ones while some wait for the outbox. */
  private serially(task: () => unknown, onError: (err: unknown) => void): void {
    let chain: Promise<unknown>;
    if (this.serial) chain = this.serial.then(task);
    else {
      let r: unknown;
      try {
        r = task();
      } catch (err) {
        onError(err);
        return;
      }
      if (!(r instanceof Promise)) return;
      chain = r;
    }
    const p: Promise<void> = chain.then(
      () => {
        if (this.serial === p) this.serial = null;
      },
      (err: unknown) => {
        if (this.serial === p) this.serial = null;
        onError(err);
      },
    );
    this.serial = p;
  }

  /** Starts delivering (pending rows of an earlier run first) and the periodic checks. */
  start(): void {
    if (this.closed || this.timer) return;
    this.delivery.start();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  // ---------- AlertSink ----------

  publish(events: readonly AlertEvent[]): void {
    if (this.closed) return;
    for (const e of events) {
      this.serially(
        () => this.take(e),
        (err) => this.log.error('alert notification could not be queued', { rule: e.ruleId, chip: e.chipId, to: e.to, err: String(err) }),
      );
    }
  }

  /**
   * The alerts firing now, as the engine knows them after a restart (their latest transition into
   * firing): nothing is sent for them, but Alertmanager receivers get them again, and their
   * resolution is notified.
   */
  resume(firing: readonly AlertEvent[]): void {
    for (const e of firing) this.firing.set(e.fingerprint, e);
  }

  /** Whether a silence covers these labels at `at` (the engine may note it in the history). */
  isSilenced(labels: LabelSet, at = this.now()): boolean {
    return this.silenceList.some((s) => s.startsAt <= at && at < s.endsAt && s.match(labels));
  }

  private take(e: AlertEvent): Maybe<void> {
    const status = e.to === 'firing' ? 'firing' : e.from === 'firing' ? 'resolved' : null;
    if (e.to === 'firing') this.firing.set(e.fingerprint, e);
    else if (e.from === 'firing') this.firing.delete(e.fingerprint);
    if (status === null) return;
    const now = this.now();
    const silenced = this.isSilenced(e.labels, now);
    const to: ActiveReceiver[] = [];
    for (const r of this.active.values()) {
      if (!r.match(e.labels)) continue;
      const key = `${r.spec.name}\0${e.fingerprint}`;
      if (status === 'firing') {
        if (silenced) {
          this.suppressed.set(key, { receiver: r.spec.name, fingerprint: e.fingerprint });
          continue;
        }
        this.suppressed.delete(key);
      } else {
        // Its firing was never sent: neither is its resolution.
        if (this.suppressed.delete(key)) continue;
        if (!r.spec.sendResolved || silenced) continue;
      }
      to.push(r);
    }
    return eachInTurn(to, (r) => this.add(r, e, status, now));
  }

  private alertOf(e: AlertEvent, status: 'firing' | 'resolved'): WebhookAlertInput {
    const annotations: Record<string, string> = { ...e.annotations };
    if (e.value !== null && !Object.hasOwn(annotations, 'value')) annotations.value = formatValue(e.value);
    return {
      status,
      labels: e.labels,
      annotations,
      startsAt: e.startsAt,
      endsAt: status === 'resolved' ? (e.endsAt ?? e.at) : null,
      generatorURL: chipUrl(this.externalUrl(), e.chipId),
    };
  }

  private body(r: ActiveReceiver, alerts: Iterable<WebhookAlertInput>, now: number): string {
    const group = { receiver: r.spec.name, groupBy: r.spec.groupBy, externalURL: this.externalUrl(), alerts: [...alerts] };
    return notificationBody(r.spec.kind, group, { now, validForMs: VALID_INTERVALS * r.repeatMs });
  }

  /** Puts the transition into its group's open notification, or opens one. */
  private add(r: ActiveReceiver, e: AlertEvent, status: 'firing' | 'resolved', now: number): Maybe<void> {
    const alert = this.alertOf(e, status);
    const name = r.spec.name;
    const groupKey = `${name}\0${JSON.stringify(r.spec.groupBy.map((k) => e.labels[k] ?? ''))}`;
    const open = this.groups.get(groupKey);
    const enqueue = (): Maybe<void> => {
      const sendAt = now + r.groupWaitMs;
      const key = idempotencyKey(name, [{ fingerprint: e.fingerprint, status, at: e.at }]);
      return after(this.box.enqueue({ receiver: name, idempotencyKey: key, body: this.body(r, [alert], now), nextAt: sendAt }, now), (id) => {
        if (id === null) return; // this very transition was queued before
        if (r.spec.kind === 'alertmanager') this.lastSent.set(name, now);
        if (r.groupWaitMs > 0) this.groups.set(groupKey, { receiver: name, rowId: id, sendAt, alerts: new Map([[e.fingerprint, alert]]) });
        this.delivery.wake();
      });
    };
    if (open && open.sendAt > now) {
      open.alerts.set(e.fingerprint, alert);
      return after(this.box.updateOpen(open.rowId, this.body(r, open.alerts.values(), now)), (updated) => {
        if (updated) return;
        this.groups.delete(groupKey);
        return enqueue();
      });
    }
    return enqueue();
  }

  private tick(): void {
    if (this.closed) return;
    const now = this.now();
    this.serially(
      () => {
        for (const [k, g] of this.groups) if (g.sendAt <= now) this.groups.delete(k);
        return after(this.unsilence(now), () =>
          after(this.resend(now), () => {
            if (now - this.lastPrune < PRUNE_EVERY_MS) return;
            this.lastPrune = now;
            if (this.store.pruneSilences(now - KEEP_ENDED_SILENCES_MS) > 0) this.reloadSilences();
            return this.box.prune(now - KEEP_DONE_MS, now - KEEP_DEAD_MS);
          }),
        );
      },
      (err) => this.log.error('alert notifier tick failed', { err: String(err) }),
    );
  }

  /** Alerts a silence held back that still fire once it ended: sent now. */
  private unsilence(now: number): Maybe<void> {
    const due: [ActiveReceiver, AlertEvent][] = [];
    for (const [key, { receiver, fingerprint }] of this.suppressed) {
      const e = this.firing.get(fingerprint);
      const r = this.active.get(receiver);
      if (!e || !r || !r.match(e.labels)) {
        this.suppressed.delete(key);
        continue;
      }
      if (this.isSilenced(e.labels, now)) continue;
      this.suppressed.delete(key);
      due.push([r, e]);
    }
    return eachInTurn(due, ([r, e]) => this.add(r, e, 'firing', now));
  }

  /** Alertmanager receivers: the alerts still firing, again every repeatInterval. */
  private resend(now: number): Maybe<void> {
    return eachInTurn([...this.active.values()], (r) => this.resendTo(r, now));
  }

  private resendTo(r: ActiveReceiver, now: number): Maybe<void> {
    if (r.spec.kind !== 'alertmanager') return;
    const name = r.spec.name;
    if (now - (this.lastSent.get(name) ?? -Infinity) < r.repeatMs) return;
    this.lastSent.set(name, now);
    const alerts = [...this.firing.values()].filter((e) => r.match(e.labels) && !this.isSilenced(e.labels, now));
    // Still sending earlier ones: this round would only queue behind them.
    if (alerts.length === 0 || this.box.pendingCount(name) > 0) return;
    const key = idempotencyKey(name, alerts.map((e) => ({ fingerprint: e.fingerprint, status: 'firing' as const, at: now })));
    const body = this.body(r, alerts.map((e) => this.alertOf(e, 'firing')), now);
    return after(this.box.enqueue({ receiver: name, idempotencyKey: key, body, nextAt: now }, now), (id) => {
      if (id !== null) this.delivery.wake();
    });
  }

  // ---------- receivers ----------

  private reloadReceivers(): void {
    const next = new Map<string, ActiveReceiver>();
    for (const r of this.store.receivers()) next.set(r.spec.name, activate(r));
    this.active = next;
    for (const [k, g] of this.groups) if (!next.has(g.receiver)) this.groups.delete(k);
    this.delivery.wake();
  }

  receivers(): StoredReceiver[] {
    return this.store.receivers();
  }

  receiver(name: string): StoredReceiver | null {
    return this.store.receiver(name);
  }

  /** A new receiver through the API; NotifyError 'conflict' when the name is taken. */
  createReceiver(spec: ReceiverSpec): StoredReceiver {
    const source = this.store.sourceOf(spec.name);
    if (source !== null) throw new NotifyError('conflict', `a receiver named ${JSON.stringify(spec.name)} exists already (from ${SOURCE_NAMES[source]}); PUT /api/v1/alerts/receivers/${spec.name} replaces it`);
    this.store.putReceiver(spec, 'api', this.now());
    this.reloadReceivers();
    return this.store.receiver(spec.name)!;
  }

  /**
   * Creates or replaces an API receiver: a secret left out keeps the stored one, null removes it.
   * NotifyError 'conflict' for one the rules file or the flag manages.
   */
  putReceiver(name: string, body: ReceiverPut): { receiver: StoredReceiver; created: boolean } {
    const source = this.store.sourceOf(name);
    if (source !== null && source !== 'api') throw new NotifyError('conflict', `receiver ${JSON.stringify(name)} comes from ${SOURCE_NAMES[source]}; change it there`);
    const { secret, name: _name, ...rest } = body;
    const kept = secret === undefined ? this.store.receiver(name)?.spec.secret : (secret ?? undefined);
    const spec: ReceiverSpec = { name, ...rest, ...(kept !== undefined ? { secret: kept } : {}) };
    this.store.putReceiver(spec, 'api', this.now());
    this.reloadReceivers();
    return { receiver: this.store.receiver(name)!, created: source === null };
  }

  /** Deletes an API receiver (its notifications not yet sent become dead letters). */
  deleteReceiver(name: string): void {
    const source = this.store.sourceOf(name);
    if (source === null) throw new NotifyError('not_found', `no receiver ${JSON.stringify(name)}; GET /api/v1/alerts/receivers lists them`);
    if (source !== 'api') throw new NotifyError('conflict', `receiver ${JSON.stringify(name)} comes from ${SOURCE_NAMES[source]}; remove it there`);
    this.store.deleteReceiver(name);
    this.reloadReceivers();
  }

  /**
   * The receivers of the rules file (source 'file'), replacing those it had: each is checked
   * with receiverSpecSchema (an Error naming `receivers[i].field` when one is wrong), and none may
   * take the name of an API or flag receiver. Nothing changes when one is refused.
   */
  setFileReceivers(receivers: readonly unknown[]): void {
    const specs: ReceiverSpec[] = [];
    const names = new Set<string>();
    receivers.forEach((raw, i) => {
      const res = receiverSpecSchema.safeParse(raw);
      if (!res.success) {
        const issue = res.error.issues[0]!;
        throw new Error(`receivers[${i}]${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${issue.message}`);
      }
      const name = res.data.name;
      if (names.has(name)) throw new Error(`receivers[${i}].name: ${JSON.stringify(name)} is given twice`);
      const source = this.store.sourceOf(name);
      if (source !== null && source !== 'file') throw new Error(`receivers[${i}].name: ${JSON.stringify(name)} is taken by a receiver from ${SOURCE_NAMES[source]}`);
      names.add(name);
      specs.push(res.data);
    });
    this.store.replaceSource('file', specs, this.now());
    this.reloadReceivers();
  }

  /** The `--webhook` catch-all receiver (every alert, Alertmanager webhook JSON), or none. */
  setFlagReceiver(flag: { url: string; secret?: string | undefined; groupWait?: string | undefined } | null): void {
    const specs = flag
      ? [receiverSpecSchema.parse({ name: FLAG_RECEIVER_NAME, kind: 'webhook', url: flag.url, ...(flag.secret ? { secret: flag.secret } : {}), ...(flag.groupWait ? { groupWait: flag.groupWait } : {}) })]
      : [];
    this.store.replaceSource('flag', specs, this.now());
    this.reloadReceivers();
  }

  // ---------- silences ----------

  private reloadSilences(): void {
    this.silenceList = this.store.silences().map((s) => ({ ...s, match: compileMatchers(s.matchers) }));
  }

  /** Every silence, newest first; ended ones are kept a week. */
  silences(): Silence[] {
    return this.store.silences();
  }

  /** A new silence; one longer than `maxMs` is cut to it. */
  addSilence(body: SilenceBody, createdBy: string, maxMs = Infinity): Silence {
    const now = this.now();
    const startsAt = body.startsAt ?? now;
    const endsAt = Math.min(body.endsAt ?? startsAt + durationMs(body.duration!)!, startsAt + maxMs);
    const s: Silence = { id: randomUUID(), matchers: body.matchers, comment: body.comment, createdBy, startsAt, endsAt };
    this.store.addSilence(s);
    this.reloadSilences();
    return s;
  }

  /** Ends a silence now; NotifyError 'not_found' when there is none still to end. */
  expireSilence(id: string): Silence {
    if (!this.store.expireSilence(id, this.now())) {
      const s = this.store.silence(id);
      throw new NotifyError('not_found', s ? `silence ${id} has already ended` : `no silence ${JSON.stringify(id)}; GET /api/v1/alerts/silences lists them`);
    }
    this.reloadSilences();
    const now = this.now();
    this.serially(
      () => this.unsilence(now),
      (err) => this.log.error('alert notification could not be queued', { err: String(err) }),
    );
    return this.store.silence(id)!;
  }

  // ---------- dead letters ----------

  deadLetters(limit = 100): Maybe<OutboxRow[]> {
    return this.box.deadLetters(limit);
  }

  /** Sends a dead letter again (attempts from zero); NotifyError 'not_found' when `id` is none. */
  retryDeadLetter(id: number): Maybe<OutboxRow> {
    return after(this.box.retryDead(id, this.now()), (row) => {
      if (!row) throw new NotifyError('not_found', `no dead letter ${id}; GET /api/v1/alerts/dead-letters lists them`);
      this.delivery.wake();
      return row;
    });
  }

  /** Stops sending (requests under way are cut short and stay pending) and closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.delivery.close();
    await this.settled();
    await this.box.close();
    await this.backend?.close();
  }
}
