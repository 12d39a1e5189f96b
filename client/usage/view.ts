/**
 * The usage page of one service: range selector, chart, daily table, traffic-added history, CSV
 * export, and the states a customer meets (loading, no data, limited, token expired, unreachable).
 */
import type { Chart } from 'chart.js';
import { ApiFailure, UsageApi, type Account, type ApiMode, type DayRow, type TopUp } from './api';
import { renderChart } from './chart';
import { download, toCsv } from './csv';
import {
  Formatter,
  addDays,
  dayIn,
  daysBetween,
  gbDecimal,
  isDay,
  localeFor,
  ltrText,
  shownSumDecimal,
  startOfDay,
  toBytes,
} from './format';

export interface MountOptions {
  serviceId: number;
  /** Where the page's operations go: the module's proxy action on WHMCS, or (direct) the server. */
  graphqlUrl: string;
  mode: ApiMode;
  token: string;
  language: string;
  dir: 'ltr' | 'rtl';
  strings: Record<string, string>;
  /** "admin" on the admin service page: no buy call to action, admin invoice links. */
  context: 'client' | 'admin';
}

type RangeKind = '7' | '30' | '90' | 'cycle' | 'custom';
type State = 'loading' | 'ready' | 'empty' | 'expired' | 'unreachable';

const PAGE_SIZE = 10;
/** The server's longest DAY range. */
const MAX_RANGE_DAYS = 1100;
const RELOAD_KEY = 'mvpn-usage-reloaded:';

function el<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

/** Previous / "2 / 5" / Next under a table. */
class Pager {
  readonly nav: HTMLElement;
  private readonly prev: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private readonly label: HTMLSpanElement;
  page = 0;
  private pages = 1;

  constructor(
    doc: Document,
    t: (k: string) => string,
    private readonly format: () => Formatter,
    private readonly onChange: () => void,
  ) {
    this.prev = el(
      doc,
      'button',
      { type: 'button', class: 'btn btn-default btn-sm mvpn-usage-btn mvpn-prev' },
      t('usage_previous'),
    );
    this.next = el(
      doc,
      'button',
      { type: 'button', class: 'btn btn-default btn-sm mvpn-usage-btn mvpn-next' },
      t('usage_next'),
    );
    this.label = el(doc, 'span', { class: 'mvpn-page' });
    this.nav = el(doc, 'nav', { class: 'mvpn-usage-pager' }, this.prev, this.label, this.next);
    this.prev.addEventListener('click', () => this.go(this.page - 1));
    this.next.addEventListener('click', () => this.go(this.page + 1));
  }

  reset(count: number): void {
    this.pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
    this.page = 0;
    this.update();
  }

  slice<T>(items: T[]): T[] {
    return items.slice(this.page * PAGE_SIZE, (this.page + 1) * PAGE_SIZE);
  }

  private go(page: number): void {
    if (page < 0 || page >= this.pages) return;
    this.page = page;
    this.update();
    this.onChange();
  }

  private update(): void {
    const f = this.format();
    this.label.textContent = `${f.int(this.page + 1)} / ${f.int(this.pages)}`;
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= this.pages - 1;
    this.nav.hidden = this.pages <= 1;
  }
}

export class UsageView {
  private readonly doc: Document;
  private readonly api: UsageApi;
  private readonly t: (key: string) => string;
  private readonly locale: string;
  private format: Formatter;
  private account: Account | null = null;
  private topUps: TopUp[] = [];
  private rows: DayRow[] = [];
  private range = { kind: '30' as RangeKind, from: '', to: '' };
  private chart: Chart<'bar' | 'line'> | null = null;
  private loadSeq = 0;

  // Elements.
  private readonly app: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly limited: HTMLDivElement;
  private readonly body: HTMLDivElement;
  private readonly data: HTMLDivElement;
  private readonly empty: HTMLDivElement;
  private readonly select: HTMLSelectElement;
  private readonly custom: HTMLSpanElement;
  private readonly fromInput: HTMLInputElement;
  private readonly toInput: HTMLInputElement;
  private readonly chartSection: HTMLElement;
  private readonly canvasBox: HTMLDivElement;
  private readonly marks: HTMLUListElement;
  private readonly daysBody: HTMLTableSectionElement;
  private readonly historyBody: HTMLTableSectionElement;
  private readonly historyNone: HTMLParagraphElement;
  private readonly dayPager: Pager;
  private readonly historyPager: Pager;

  constructor(
    private readonly root: HTMLElement,
    private readonly options: MountOptions,
  ) {
    this.doc = root.ownerDocument;
    const strings = options.strings;
    this.t = (key) => strings[key] ?? key;
    this.locale = localeFor(options.language, this.doc.defaultView?.navigator.language ?? 'en');
    this.format = new Formatter(this.locale, 'UTC');
    this.api = new UsageApi(options.graphqlUrl, options.token, options.serviceId, toBytes, options.mode);
    const { doc, t } = this;
    const unit = t('unit_gb');

    this.status = el(doc, 'div', { class: 'mvpn-usage-status', role: 'status', 'aria-live': 'polite' });
    this.limited = el(doc, 'div', {
      class: 'alert alert-danger mvpn-usage-alert mvpn-usage-alert-danger mvpn-usage-limited',
      role: 'alert',
    });
    this.limited.hidden = true;

    // Range selector, custom dates, CSV.
    this.select = el(doc, 'select', { class: 'form-control input-sm mvpn-usage-range' });
    for (const [value, key] of [
      ['7', 'usage_range_7'],
      ['30', 'usage_range_30'],
      ['90', 'usage_range_90'],
      ['cycle', 'usage_range_cycle'],
      ['custom', 'usage_range_custom'],
    ]) {
      this.select.append(el(doc, 'option', { value }, t(key)));
    }
    this.select.value = this.range.kind;
    this.fromInput = el(doc, 'input', { type: 'date', class: 'form-control input-sm mvpn-usage-from' });
    this.toInput = el(doc, 'input', { type: 'date', class: 'form-control input-sm mvpn-usage-to' });
    this.custom = el(
      doc,
      'span',
      { class: 'mvpn-usage-custom' },
      el(doc, 'label', {}, t('usage_from'), this.fromInput),
      el(doc, 'label', {}, t('usage_to'), this.toInput),
    );
    this.custom.hidden = true;
    const csv = el(
      doc,
      'button',
      { type: 'button', class: 'btn btn-default btn-sm mvpn-usage-btn mvpn-usage-csv' },
      t('usage_export_csv'),
    );
    const toolbar = el(doc, 'div', { class: 'mvpn-usage-toolbar' }, this.select, this.custom, csv);
    this.select.setAttribute('aria-label', t('usage_chart'));

    // Chart and its marks.
    this.canvasBox = el(doc, 'div', { class: 'mvpn-usage-canvas' });
    this.marks = el(doc, 'ul', { class: 'mvpn-usage-marks', 'aria-label': t('usage_history') });
    this.empty = el(
      doc,
      'div',
      {
        class: 'alert alert-info mvpn-usage-alert mvpn-usage-alert-info mvpn-usage-empty',
      },
      t('usage_no_data'),
    );
    this.empty.hidden = true;

    // Daily table.
    const num = { class: 'mvpn-num' };
    this.daysBody = el(doc, 'tbody');
    const daysTable = el(
      doc,
      'table',
      { class: 'table table-striped table-condensed table-sm mvpn-usage-days' },
      el(
        doc,
        'thead',
        {},
        el(
          doc,
          'tr',
          {},
          el(doc, 'th', { scope: 'col' }, t('usage_date')),
          el(doc, 'th', { scope: 'col', ...num }, `${t('usage_balance')} (${unit})`),
          el(doc, 'th', { scope: 'col', ...num }, `${t('usage_added')} (${unit})`),
          el(doc, 'th', { scope: 'col', ...num }, `${t('usage_total')} (${unit})`),
          el(doc, 'th', { scope: 'col', ...num }, `${t('usage_download')} (${unit})`),
          el(doc, 'th', { scope: 'col', ...num }, `${t('usage_upload')} (${unit})`),
        ),
      ),
      this.daysBody,
    );
    this.dayPager = new Pager(
      doc,
      t,
      () => this.format,
      () => this.renderDays(),
    );

    // Traffic-added history.
    this.historyBody = el(doc, 'tbody');
    const historyTable = el(
      doc,
      'table',
      { class: 'table table-striped table-condensed table-sm mvpn-usage-history' },
      el(
        doc,
        'thead',
        {},
        el(
          doc,
          'tr',
          {},
          el(doc, 'th', { scope: 'col' }, t('usage_date')),
          el(doc, 'th', { scope: 'col', ...num }, `${t('usage_added')} (${unit})`),
          el(doc, 'th', { scope: 'col', ...num }, `${t('usage_before')} (${unit})`),
          el(doc, 'th', { scope: 'col', ...num }, `${t('usage_after')} (${unit})`),
          el(doc, 'th', { scope: 'col' }, t('usage_description')),
          el(doc, 'th', { scope: 'col' }, t('usage_invoice')),
        ),
      ),
      this.historyBody,
    );
    this.historyNone = el(doc, 'p', { class: 'text-muted mvpn-usage-history-none' }, t('usage_history_none'));
    this.historyPager = new Pager(
      doc,
      t,
      () => this.format,
      () => this.renderHistory(),
    );

    this.chartSection = el(
      doc,
      'section',
      { class: 'mvpn-usage-chart' },
      el(doc, 'h4', {}, t('usage_chart')),
      this.canvasBox,
      this.marks,
    );
    this.data = el(
      doc,
      'div',
      { class: 'mvpn-usage-data' },
      this.chartSection,
      el(
        doc,
        'section',
        { class: 'mvpn-usage-table' },
        el(doc, 'h4', {}, t('usage_table')),
        el(doc, 'div', { class: 'table-responsive' }, daysTable),
        this.dayPager.nav,
      ),
    );
    const history = el(
      doc,
      'section',
      { class: 'mvpn-usage-history-section' },
      el(doc, 'h4', {}, t('usage_history')),
      el(doc, 'div', { class: 'table-responsive' }, historyTable),
      this.historyNone,
      this.historyPager.nav,
    );
    this.body = el(
      doc,
      'div',
      { class: 'mvpn-usage-body' },
      toolbar,
      this.empty,
      this.data,
      history,
      el(doc, 'p', { class: 'mvpn-usage-unit' }, t('unit_note')),
    );
    this.body.hidden = true;
    this.app = el(
      doc,
      'div',
      { class: 'mvpn-usage-app', dir: options.dir, lang: this.locale },
      el(doc, 'h3', { class: 'mvpn-usage-title' }, t('usage_title')),
      this.status,
      this.limited,
      this.body,
    );
    root.replaceChildren(this.app);

    this.select.addEventListener('change', () => this.onRangeChange());
    this.fromInput.addEventListener('change', () => this.onRangeChange());
    this.toInput.addEventListener('change', () => this.onRangeChange());
    csv.addEventListener('click', () => this.exportCsv());
  }

  // ---------------------------------------------------------------- states

  private setState(state: State, message?: string, tone: 'info' | 'warning' | 'danger' = 'info'): void {
    this.app.dataset.state = state;
    this.root.dataset.state = state;
    this.status.replaceChildren();
    if (message) {
      this.status.append(
        el(
          this.doc,
          'div',
          { class: `alert alert-${tone} mvpn-usage-alert mvpn-usage-alert-${tone}` },
          message,
        ),
      );
    }
  }

  private fail(error: unknown): void {
    this.destroyChart();
    const failure = error instanceof ApiFailure ? error : new ApiFailure('unreachable', String(error));
    if (failure.kind === 'expired') {
      this.onExpired();
      return;
    }
    this.body.hidden = this.account === null;
    this.data.hidden = true;
    this.empty.hidden = true;
    this.setState('unreachable', this.t('usage_unreachable'), 'warning');
  }

  /** The token expired (or the key it was signed with is gone): reload once for a fresh one, then explain. */
  private onExpired(): void {
    const key = RELOAD_KEY + this.options.serviceId;
    const win = this.doc.defaultView;
    let reloadedBefore = true;
    try {
      reloadedBefore = win?.sessionStorage.getItem(key) !== null;
      if (!reloadedBefore) win?.sessionStorage.setItem(key, String(Date.now()));
    } catch {
      reloadedBefore = true; // no sessionStorage: never risk a reload loop
    }
    if (!reloadedBefore && win) {
      this.setState('loading', this.t('usage_loading'));
      win.location.reload();
      return;
    }
    this.body.hidden = true;
    this.limited.hidden = true;
    this.setState('expired', this.t('usage_token_expired'), 'warning');
  }

  private loaded(): void {
    try {
      this.doc.defaultView?.sessionStorage.removeItem(RELOAD_KEY + this.options.serviceId);
    } catch {
      // nothing to forget
    }
  }

  // ---------------------------------------------------------------- loading

  async start(): Promise<void> {
    this.setState('loading', this.t('usage_loading'));
    try {
      const account = await this.api.account();
      if (!account) {
        this.setState('empty', this.t('usage_no_data'));
        return;
      }
      this.account = account;
      this.format = new Formatter(this.locale, account.timeZone);
      this.topUps = await this.api.topUps();
      this.loaded();
      this.renderLimited();
      this.renderHistory(true);
      this.setRange('30');
      await this.loadRange();
    } catch (error) {
      this.fail(error);
    }
  }

  private today(): string {
    return dayIn(this.account!.timeZone, new Date());
  }

  /**
   * The first day of the current billing cycle: the day of the last cycle credit that started a
   * cycle (a first allowance or a renewal; a package change credits within the cycle).
   */
  private cycleStart(): string {
    const cycle = this.topUps.find((t) => t.kind === 'CYCLE' && t.reason !== 'PACKAGE_CHANGE');
    return cycle ? cycle.day : dayIn(this.account!.timeZone, new Date(this.account!.createdAt));
  }

  private setRange(kind: RangeKind): void {
    const today = this.today();
    this.range.kind = kind;
    this.select.value = kind;
    this.custom.hidden = kind !== 'custom';
    if (kind === 'custom') {
      if (!this.fromInput.value) this.fromInput.value = this.range.from || addDays(today, -29);
      if (!this.toInput.value) this.toInput.value = this.range.to || today;
      this.fromInput.max = today;
      this.toInput.max = today;
      this.range.from = this.fromInput.value;
      this.range.to = this.toInput.value;
    } else if (kind === 'cycle') {
      this.range.from = this.cycleStart() > today ? today : this.cycleStart();
      this.range.to = today;
    } else {
      this.range.from = addDays(today, -(Number(kind) - 1));
      this.range.to = today;
    }
  }

  private onRangeChange(): void {
    if (!this.account) return;
    this.setRange(this.select.value as RangeKind);
    const { from, to } = this.range;
    const valid = isDay(from) && isDay(to) && from <= to && daysBetween(from, to) < MAX_RANGE_DAYS;
    // A custom range that cannot be shown is marked on its fields (the date pickers' own limits
    // keep most of them from being chosen at all); the last good range stays on screen.
    this.custom.classList.toggle('has-error', !valid);
    for (const input of [this.fromInput, this.toInput]) input.setAttribute('aria-invalid', String(!valid));
    if (this.range.kind === 'custom') {
      this.toInput.min = this.fromInput.value;
      this.fromInput.max = this.toInput.value || this.today();
    }
    if (!valid) return;
    void this.loadRange();
  }

  private async loadRange(): Promise<void> {
    const seq = ++this.loadSeq;
    const { from, to } = this.range;
    const zone = this.account!.timeZone;
    this.setState('loading', this.t('usage_loading'));
    try {
      const rows = await this.api.days(startOfDay(from, zone), startOfDay(addDays(to, 1), zone));
      if (seq !== this.loadSeq) return; // a newer range was chosen meanwhile
      this.loaded();
      // The server lists every day of the range up to today, quiet days included; days before the
      // account existed are not its days (their "balance" would be a made-up 0).
      // The server lists every day of the range the account existed (quiet ones too).
      this.rows = rows.slice().sort((a, b) => (a.day < b.day ? 1 : -1)); // newest first
      this.body.hidden = false;
      this.app.dataset.from = from;
      this.app.dataset.to = to;
      // No traffic in the range: say so, draw no chart of zeros, but still list the days (their
      // balance and what was added on them) when the account existed then.
      const traffic = this.rows.some((r) => r.totalBytes !== 0n);
      this.empty.hidden = traffic;
      this.data.hidden = this.rows.length === 0;
      this.chartSection.hidden = !traffic;
      this.dayPager.reset(this.rows.length);
      this.renderDays();
      this.renderMarks();
      if (traffic) this.renderChart();
      else this.destroyChart();
      this.setState(traffic ? 'ready' : 'empty');
    } catch (error) {
      if (seq === this.loadSeq) this.fail(error);
    }
  }

  // ---------------------------------------------------------------- rendering

  private renderLimited(): void {
    const account = this.account!;
    this.app.dataset.status = account.status;
    // Used up: cut off (LIMITED), or online at the throttle speed (THROTTLED); both can buy traffic.
    const throttled = account.status === 'THROTTLED';
    this.limited.hidden = account.status !== 'LIMITED' && !throttled;
    if (this.limited.hidden) return;
    const children: Node[] = [
      el(this.doc, 'span', {}, this.t(throttled ? 'usage_throttled' : 'usage_limited')),
    ];
    if (this.options.context === 'client') {
      const buy = el(
        this.doc,
        'a',
        { class: 'btn btn-primary btn-sm mvpn-usage-buy', href: 'cart.php?gid=addons' },
        this.t('buy_traffic'),
      );
      // The overview block above lists the traffic addons: go there when it is on the page.
      buy.addEventListener('click', (event) => {
        const panel = this.root.closest('.mvpn')?.querySelector<HTMLElement>('.mvpn-buy');
        if (!panel) return;
        event.preventDefault();
        panel.scrollIntoView({ behavior: 'smooth', block: 'center' });
        panel.querySelector<HTMLElement>('select, button')?.focus({ preventScroll: true });
      });
      children.push(buy);
    }
    this.limited.replaceChildren(...children);
  }

  private gbCell(bytes: bigint, extra = ''): HTMLTableCellElement {
    const cell = el(
      this.doc,
      'td',
      { class: `mvpn-num${bytes < 0n ? ' mvpn-negative' : ''}${extra}` },
      this.format.bytes(bytes),
    );
    cell.dataset.bytes = bytes.toString();
    return cell;
  }

  /** A signed amount ("+100.00", "−5.00") kept left to right in right-to-left pages. */
  private signed(bytes: bigint): HTMLElement {
    return el(this.doc, 'bdi', { dir: 'ltr' }, this.format.signedBytes(bytes));
  }

  /** The lines of traffic added on a day (0-byte notes such as a move are only in the history). */
  private creditsOn(day: string): TopUp[] {
    return this.topUps.filter((t) => t.day === day && t.bytes !== 0n);
  }

  /** "+100.00 (Additional traffic)", one line per top-up of the day, after their sum when several. */
  private addedCell(r: DayRow): HTMLTableCellElement {
    const cell = el(this.doc, 'td', {
      class: `mvpn-num mvpn-added${r.creditedBytes < 0n ? ' mvpn-negative' : ''}`,
    });
    cell.dataset.bytes = r.creditedBytes.toString();
    const credits = this.creditsOn(r.day);
    const line = (bytes: bigint, label?: string) => {
      const span = el(this.doc, 'span', { class: 'mvpn-added-line' }, this.signed(bytes));
      if (label) span.append(' ', el(this.doc, 'span', { class: 'mvpn-added-kind' }, `(${label})`));
      return span;
    };
    const sum = credits.reduce((a, t) => a + t.bytes, 0n);
    if (credits.length === 1 && sum === r.creditedBytes) {
      cell.append(line(credits[0].bytes, this.kindLabel(credits[0].kind)));
      return cell;
    }
    if (r.creditedBytes !== 0n || credits.length) cell.append(line(r.creditedBytes));
    for (const t of credits) cell.append(line(t.bytes, this.kindLabel(t.kind)));
    return cell;
  }

  private renderDays(): void {
    const rows = this.dayPager.slice(this.rows).map((r) => {
      // The total shown is the sum of the download and upload shown, so that a row adds up.
      const total = el(
        this.doc,
        'td',
        { class: 'mvpn-num' },
        this.format.decimal(shownSumDecimal([r.downloadBytes, r.uploadBytes])),
      );
      total.dataset.bytes = r.totalBytes.toString();
      const tr = el(
        this.doc,
        'tr',
        { 'data-day': r.day },
        el(this.doc, 'td', {}, el(this.doc, 'time', { datetime: r.day }, this.format.day(r.day))),
        this.gbCell(r.balanceAfterBytes),
        this.addedCell(r),
        total,
        this.gbCell(r.downloadBytes),
        this.gbCell(r.uploadBytes),
      );
      return tr;
    });
    this.daysBody.replaceChildren(...rows);
  }

  private kindLabel(kind: string): string {
    return this.t(`kind_${kind}`);
  }

  /** A billing cycle as WHMCS names it ("Semi-Annually") in the customer's language. */
  private cycleName(cycle: string): string {
    return this.options.strings[`cycle_name_${cycle.toLowerCase().replace(/[^a-z]/g, '')}`] ?? cycle;
  }

  /**
   * A rollover line's cycle ("2026-11-01/2026-12-01": its first day and the day it ended) as two days
   * in the customer's locale, kept left to right inside right-to-left text. '' when it is not that.
   */
  private period(period: string): string {
    const [from, to, ...rest] = period.split('/');
    if (rest.length || !from || !to || !isDay(from) || !isDay(to)) return '';
    return ltrText(`${this.format.day(from)} \u2013 ${this.format.day(to)}`);
  }

  /**
   * What a history line is, in the customer's language: the server words its own lines by reason
   * (and cycle, or for rollover lines the cycle the traffic came from); lines from before reasons
   * existed, addons and adjustments by their kind.
   */
  private topUpLabel(t: TopUp): string {
    if (t.reason === 'MOVED') return this.t('topup_MOVED');
    if ((t.reason === 'FIRST_CYCLE' || t.reason === 'RENEWAL' || t.reason === 'PACKAGE_CHANGE') && t.cycle) {
      return this.t(`topup_${t.reason}`).split('{cycle}').join(this.cycleName(t.cycle));
    }
    const period = t.period ? this.period(t.period) : '';
    if (
      (t.reason === 'CYCLE_UNUSED' || t.reason === 'CARRIED_OVER' || t.reason === 'CARRY_EXPIRED') &&
      period
    ) {
      return this.t(`topup_${t.reason}`).split('{period}').join(period);
    }
    return this.kindLabel(t.kind);
  }

  /** The label, then what a person or WHMCS named (an addon, a reason) unless it only repeats it. */
  private topUpText(t: TopUp): string {
    const label = this.topUpLabel(t);
    const description = t.description.trim();
    const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();
    if (!description || same(description, label) || same(description, this.kindLabel(t.kind))) return label;
    return `${label} · ${description}`;
  }

  private renderMarks(): void {
    const { from, to } = this.range;
    const inRange = this.topUps.filter((t) => t.day >= from && t.day <= to && t.bytes !== 0n);
    const unit = this.t('unit_gb');
    this.marks.replaceChildren(
      ...inRange.map((t) =>
        el(
          this.doc,
          'li',
          { 'data-day': t.day, 'data-bytes': t.bytes.toString(), 'data-kind': t.kind },
          `${this.format.day(t.day)}: `,
          this.signed(t.bytes),
          ` ${unit} (${this.kindLabel(t.kind)})`,
        ),
      ),
    );
    this.marks.hidden = inRange.length === 0;
  }

  private renderHistory(reset = false): void {
    if (reset) this.historyPager.reset(this.topUps.length);
    this.historyNone.hidden = this.topUps.length > 0;
    this.historyBody.parentElement!.hidden = this.topUps.length === 0;
    const invoiceHref = (id: number) =>
      this.options.context === 'admin' ? `invoices.php?action=edit&id=${id}` : `viewinvoice.php?id=${id}`;
    this.historyBody.replaceChildren(
      ...this.historyPager.slice(this.topUps).map((t) => {
        const invoice = el(this.doc, 'td', {});
        if (t.invoiceId) {
          invoice.append(el(this.doc, 'a', { href: invoiceHref(t.invoiceId) }, `#${t.invoiceId}`));
        }
        return el(
          this.doc,
          'tr',
          { 'data-id': t.id, 'data-day': t.day },
          el(this.doc, 'td', {}, el(this.doc, 'time', { datetime: t.at }, this.format.instant(t.at))),
          el(
            this.doc,
            'td',
            { class: `mvpn-num${t.bytes < 0n ? ' mvpn-negative' : ''}`, 'data-bytes': t.bytes.toString() },
            this.signed(t.bytes),
          ),
          this.gbCell(t.balanceBeforeBytes),
          this.gbCell(t.balanceAfterBytes),
          el(this.doc, 'td', { 'data-reason': t.reason ?? '' }, this.topUpText(t)),
          invoice,
        );
      }),
    );
  }

  private renderChart(): void {
    this.destroyChart();
    const canvas = el(this.doc, 'canvas', { role: 'img', 'aria-label': this.t('usage_chart') });
    this.canvasBox.replaceChildren(canvas);
    this.chart = renderChart(canvas, {
      rows: this.rows.slice().reverse(),
      topUps: this.topUps.filter((t) => t.bytes !== 0n),
      unlimited: this.account!.unlimited,
      rtl: this.options.dir === 'rtl',
      format: this.format,
      labels: {
        download: this.t('usage_download'),
        upload: this.t('usage_upload'),
        balance: this.t('usage_balance'),
        unit: this.t('unit_gb'),
        kind: (kind) => this.kindLabel(kind),
      },
    });
  }

  private destroyChart(): void {
    this.chart?.destroy();
    this.chart = null;
    this.canvasBox.replaceChildren();
  }

  private exportCsv(): void {
    const unit = this.t('unit_gb');
    const header = [
      this.t('usage_date'),
      `${this.t('usage_balance')} (${unit})`,
      `${this.t('usage_added')} (${unit})`,
      `${this.t('usage_total')} (${unit})`,
      `${this.t('usage_download')} (${unit})`,
      `${this.t('usage_upload')} (${unit})`,
    ];
    // Plain numbers (dot decimals, fixed places, "-" for negatives) and ISO days, so every
    // spreadsheet reads them; the total is the sum of the parts as written, like the table's.
    const rows = this.rows.map((r) => [
      r.day,
      gbDecimal(r.balanceAfterBytes),
      gbDecimal(r.creditedBytes),
      shownSumDecimal([r.downloadBytes, r.uploadBytes]),
      gbDecimal(r.downloadBytes),
      gbDecimal(r.uploadBytes),
    ]);
    download(
      this.doc,
      `traffic-${this.options.serviceId}-${this.range.from}-${this.range.to}.csv`,
      toCsv(header, rows),
    );
  }
}
