// The chat: panel, session, message flow, event stream, offline queue.

import { contrastText, parseColor, toHex } from "../shared/color";
import { h, icon, setAttrs, sheet } from "../shared/dom";
import { CLOSE } from "../shared/icons";
import { guessLocale, pickLocale } from "../shared/locale";
import { tenantStore, type Store } from "../shared/storage";
import type { ChatController, HostContext, Locale, TenantConfig } from "../shared/types";
import { renderFormation, type Formation } from "./formations";
import { ApiError, api } from "./http";
import { STRINGS, fmt, type Strings } from "./i18n";
import { markdownStream, type MarkdownStream } from "./markdown";
import { Outbox } from "./outbox";
import { Overlay } from "./overlay";
import type { SseEvent } from "./sse";
import { EventStream, backoff } from "./stream";
import CHAT_CSS from "./chat.css";

export type Role = "visitor" | "assistant" | "operator" | "system";

export interface Message {
  id?: string;
  conversation_id?: string;
  role: Role;
  text: string;
  formation?: Formation | null;
  status?: string;
  created_at?: string;
  operator_name?: string | null;
  client_id?: string | null;
}

interface Session {
  token: string;
  expires_in?: number;
  visitor?: string;
  conversation?: unknown;
  config?: TenantConfig;
}

type Local = "sending" | "queued" | "failed";

interface Row {
  msg: Message;
  el: HTMLElement;
  body: HTMLElement;
  slot: HTMLElement;
  status: HTMLElement;
  /** The text as shown so far (it grows with each delta), and the frame that shows more of it. */
  md: MarkdownStream;
  frame?: number;
  /** The formation last rendered, as JSON (a `done` repeating it changes nothing). */
  fkey?: string;
  local?: Local;
  streaming?: boolean;
}

const SEND = "M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z";

/** A conversation id from a string or an object with an id. */
const idOf = (c: unknown): string | null =>
  typeof c === "string" && c ? c : c && typeof c === "object" && typeof (c as { id?: unknown }).id === "string" ? (c as { id: string }).id : null;

export function uuid(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function tabId(): string {
  try {
    let id = sessionStorage.getItem("keepstar:tab");
    if (!id) sessionStorage.setItem("keepstar:tab", (id = uuid()));
    return id;
  } catch {
    return uuid();
  }
}

export class Chat implements ChatController {
  private store: Store;
  private outbox: Outbox;
  private locale: Locale;
  private t: Strings;
  private config: TenantConfig;
  private session: Promise<Session> | null = null;
  private token = "";
  private identity: string | null = null;
  private conv: string | null;
  private stream: EventStream | null = null;
  /** The conversation the stream belongs to (set as soon as it is being set up). */
  private streamFor: string | null = null;
  private rows = new Map<string, Row>();
  private isOpen = false;
  private unread = 0;
  private handoff = "";
  private fatal = false;
  private readySent = false;
  private pumping = false;
  /** A stream event is being handled: a formation painted now has just arrived. */
  private arriving = false;
  private oldest: string | null = null;
  private restoreFocus: HTMLElement | null = null;
  private timer: ReturnType<typeof setInterval>;
  private cleanup: (() => void)[] = [];

  private panel: HTMLElement;
  private title: HTMLElement;
  private logo: HTMLImageElement;
  private closeBtn: HTMLButtonElement;
  private banner: HTMLElement;
  private list: HTMLElement;
  private more: HTMLButtonElement;
  private greet: HTMLElement;
  private typingRow: HTMLElement;
  private human: HTMLButtonElement;
  private input: HTMLTextAreaElement;
  private sendBtn: HTMLButtonElement;
  private live: HTMLElement;
  private ov: Overlay;

  constructor(private ctx: HostContext) {
    const { cfg } = ctx;
    this.store = tenantStore(cfg.tenant);
    this.outbox = new Outbox(this.store, tabId());
    this.config = this.store.get<TenantConfig>("config") || {};
    this.locale = cfg.locale || pickLocale(this.config.locale) || guessLocale();
    this.t = STRINGS[this.locale];
    this.conv = this.store.get<string>("conversation") || null;

    ctx.root.adoptedStyleSheets = [...ctx.root.adoptedStyleSheets, sheet(CHAT_CSS)];
    ctx.frame.classList.toggle("nl", !ctx.launcher);

    this.title = h("div", { class: "tt", dir: "auto" });
    this.logo = h("img", { alt: "", hidden: true, referrerpolicy: "no-referrer" });
    this.logo.addEventListener("error", () => (this.logo.hidden = true));
    this.closeBtn = h("button", { type: "button", class: "ib" }, icon(CLOSE));
    this.closeBtn.addEventListener("click", () => this.close());
    this.banner = h("div", { class: "bn", role: "status", hidden: true });
    this.more = h("button", { type: "button", class: "more", hidden: true });
    this.more.addEventListener("click", () => void this.history(true));
    this.greet = h("div", { class: "m a", hidden: true }, h("div", { class: "b", dir: "auto" }));
    this.list = h("div", { class: "ls", part: "messages" }, this.more, this.greet);
    this.typingRow = h("div", { class: "m a ty" }, h("div", { class: "b" }, h("i"), h("i"), h("i"), h("span", { class: "sr" })));
    this.human = h("button", { type: "button", class: "hm", hidden: true });
    this.human.addEventListener("click", () => void this.requestHuman());
    this.input = h("textarea", { rows: 1, maxlength: 4000, enterkeyhint: "send", dir: "auto" });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => this.autosize());
    this.sendBtn = h("button", { type: "submit", class: "ib sd" }, icon(SEND));
    const form = h("form", { class: "cp", part: "composer" }, this.input, this.sendBtn);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.live = h("div", { class: "sr", "aria-live": "polite" });
    this.panel = h(
      "div",
      { class: "p", part: "panel", role: "dialog" },
      h("div", { class: "hd", part: "header" }, this.logo, this.title, this.closeBtn),
      this.banner,
      this.list,
      h("div", { class: "ft" }, this.human),
      form,
      this.live,
    );
    this.panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        // The overlay first, the panel on the next Esc.
        if (this.ov.visible) this.ov.close();
        else this.close();
      }
    });
    this.panel.addEventListener("touchmove", (e) => this.lockScroll(e), { passive: false });
    ctx.frame.appendChild(this.panel);
    this.ov = new Overlay(ctx.frame, this.panel, this.t);

    this.applyConfig(this.config);
    for (const i of this.outbox.mine()) this.localRow(i.client_id, i.text, "queued");

    const on = <K extends string>(target: EventTarget | undefined | null, ev: K, fn: (e: Event) => void) => {
      if (!target) return;
      target.addEventListener(ev, fn);
      this.cleanup.push(() => target.removeEventListener(ev, fn));
    };
    on(window, "online", () => {
      this.setBanner();
      this.outbox.wake();
      this.stream?.nudge();
      void this.pump();
    });
    on(window, "offline", () => this.setBanner());
    on(document, "visibilitychange", () => this.isOpen && !document.hidden && this.setUnread(0));
    on(window, "storage", (e) => {
      const se = e as StorageEvent;
      // Another tab started a conversation: follow it.
      if (se.key !== this.store.key("conversation")) return;
      const id = idOf(this.store.get("conversation"));
      if (id && id !== this.conv) this.setConversation(id, true);
    });
    const vv = window.visualViewport;
    on(vv, "resize", () => this.fit());
    on(vv, "scroll", () => this.fit());
    this.timer = setInterval(() => void this.pump(), 3000);

    // A returning visitor (or a first visit, to learn the branding) starts a session now;
    // otherwise the session waits until the panel is opened.
    if (this.conv || !this.config.title) void this.start();
    void this.pump();
  }

  // ---- public API ----

  open(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    const active = document.activeElement as HTMLElement | null;
    this.restoreFocus = active && active !== this.ctx.host ? active : null;
    this.setOpen(true);
    this.ov.panel = true;
    this.fit();
    this.setUnread(0);
    this.scrollDown();
    this.input.focus({ preventScroll: true });
    void this.start();
    this.ctx.emit("open");
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.setOpen(false);
    this.ov.panel = false;
    this.ov.close(false);
    const back = this.ctx.launcher || this.restoreFocus;
    if (back?.isConnected) back.focus({ preventScroll: true });
    this.ctx.emit("close");
  }

  toggle(): void {
    if (this.isOpen) this.close();
    else this.open();
  }

  send(text: string): void {
    this.open();
    this.post(String(text ?? ""));
  }

  identify(token: string): void {
    this.identity = token ? String(token) : null;
    if (this.session) void this.renew().catch(() => {});
  }

  reset(): void {
    this.stream?.stop();
    this.stream = this.streamFor = null;
    for (const n of ["visitor", "conversation"]) this.store.del(n);
    for (const i of this.outbox.mine()) this.outbox.remove(i.client_id);
    for (const r of new Set(this.rows.values())) r.el.remove();
    this.rows.clear();
    this.typingRow.remove();
    this.ov.clear();
    this.session = null;
    this.conv = null;
    this.oldest = null;
    this.handoff = "";
    this.fatal = false;
    this.more.hidden = true;
    this.setUnread(0);
    this.setHuman();
    this.ctx.emit("reset");
    if (this.isOpen) void this.start();
  }

  destroy(): void {
    this.stream?.stop();
    clearInterval(this.timer);
    for (const f of this.cleanup) f();
    this.outbox.leave();
    this.ov.destroy();
    this.panel.remove();
  }

  // ---- session ----

  private ready(): Promise<Session> {
    return (this.session ||= this.createSession().catch((e) => {
      this.session = null;
      throw e;
    }));
  }

  private renew(): Promise<Session> {
    this.session = null;
    return this.ready();
  }

  private async createSession(): Promise<Session> {
    const { cfg } = this.ctx;
    const s = await api<Session>(cfg.base, "POST", "/sessions", null, {
      tenant: cfg.tenant,
      key: cfg.key,
      visitor: this.store.get<string>("visitor") || undefined,
      page: { url: location.href, title: document.title },
      locale: cfg.locale,
      identity: this.identity || undefined,
    });
    this.token = s.token;
    if (s.visitor) this.store.set("visitor", s.visitor);
    if (s.config) {
      const { title, greeting, color, position, locale, logo_url, launcher_text } = s.config;
      this.applyConfig({ title, greeting, color, position, locale, logo_url, launcher_text });
      this.store.set("config", { ...this.config, ...this.brandColor() });
    }
    const conv = idOf(s.conversation);
    if (conv && conv !== this.conv) this.setConversation(conv, true);
    return s;
  }

  /** Session, history and stream; safe to call repeatedly. */
  private async start(): Promise<void> {
    if (this.fatal) return;
    try {
      await this.ready();
      if (this.conv && this.streamFor !== this.conv) this.setConversation(this.conv, true);
      if (!this.readySent) this.ctx.emit("ready");
      this.readySent = true;
    } catch (e) {
      this.failed(e);
    }
  }

  /** Sends a request with the current token; on 401 re-creates the session once. */
  private async authed<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const send = () => api<T>(this.ctx.cfg.base, method, path, this.token, body);
    await this.ready();
    try {
      return await send();
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      await this.renew();
      return send();
    }
  }

  private failed(e: unknown): void {
    if (!(e instanceof ApiError)) return void console.error("[keepstar]", e);
    if (this.fatal) return;
    this.ctx.emit("error", { code: e.code, message: e.message, status: e.status });
    if (e.status === 401 || e.status === 403) {
      // A bad key or a disallowed origin: nothing will work until the site is fixed.
      this.fatal = true;
      this.note(this.t.unavailable, true);
      this.input.disabled = this.sendBtn.disabled = true;
    }
  }

  private applyConfig(c: TenantConfig): void {
    this.config = { ...this.config, ...c };
    const loc = this.ctx.cfg.locale || pickLocale(this.config.locale) || this.locale;
    this.locale = loc;
    const t = (this.t = STRINGS[loc]);
    this.ov.lang(t);
    const title = this.config.title || t.title;
    this.title.textContent = title;
    this.panel.setAttribute("aria-label", title);
    this.panel.setAttribute("lang", loc);
    const logo = this.config.logo_url && /^https?:\/\//i.test(this.config.logo_url) ? this.config.logo_url : "";
    if (logo) this.logo.src = logo;
    this.logo.hidden = !logo;
    setAttrs(this.closeBtn, { "aria-label": t.close, title: t.close });
    setAttrs(this.input, { placeholder: t.placeholder, "aria-label": t.message });
    setAttrs(this.sendBtn, { "aria-label": t.send, title: t.send });
    this.human.textContent = t.human;
    this.more.textContent = t.earlier;
    this.typingRow.querySelector(".sr")!.textContent = t.typing;
    markdownStream(this.greet.firstChild as HTMLElement)(this.config.greeting || "", true);
    this.greet.hidden = !this.config.greeting;
    this.setBanner();
    this.brandColor();
    const { cfg, frame, launcher } = this.ctx;
    if (!cfg.position) frame.setAttribute("data-pos", this.config.position === "left" ? "left" : "right");
    if (launcher) setAttrs(launcher, { title: this.config.launcher_text || null });
    this.label();
  }

  /**
   * Brand colour and its auto-contrast text colour (black or white, whichever contrasts
   * more). A site's own --keepstar-color wins over the tenant's colour.
   */
  private brandColor(): { color?: string; on?: string } {
    const host = this.ctx.host;
    const c = parseColor(getComputedStyle(host).getPropertyValue("--keepstar-color")) || parseColor(this.config.color);
    if (!c) return {};
    const color = toHex(c);
    const on = contrastText(c);
    host.style.setProperty("--ks-b", color);
    host.style.setProperty("--ks-ob", on);
    return { color, on };
  }

  // ---- conversation & stream ----

  /**
   * Switches to a conversation: stores it, (re)opens its stream, and optionally loads its history.
   * The stream resumes after `since` (the event id of our own message, or the history's position),
   * so nothing sent in between is missed.
   */
  private setConversation(id: string, loadHistory: boolean, since?: string): void {
    if (id === this.conv && id === this.streamFor) return;
    if (id !== this.conv) {
      this.oldest = null;
      this.more.hidden = true;
    }
    this.conv = this.streamFor = id;
    this.store.set("conversation", id);
    this.stream?.stop();
    this.stream = null;
    this.setHuman();
    const open = (lastEventId?: string) => {
      this.stream = new EventStream({
        url: `${this.ctx.cfg.base}/api/v1/events?conversation=${encodeURIComponent(id)}`,
        lastEventId,
        token: async () => (await this.ready(), this.token),
        renew: async () => void (await this.renew()),
        onEvent: (e) => this.onEvent(e),
        onState: (up) => this.setBanner(!up),
        onFatal: () => {
          // The conversation is gone (closed, purged): the next message starts a new one.
          if (this.conv === id) {
            this.conv = this.streamFor = null;
            this.store.del("conversation");
          }
          this.setBanner();
        },
      });
    };
    if (loadHistory)
      void this.history(false)
        .then((position) => this.streamFor === id && open(position))
        .catch(() => this.streamFor === id && open());
    else open(since);
  }

  /** Loads history; resolves to the stream position it was read at. */
  private async history(earlier: boolean): Promise<string | undefined> {
    const conv = this.conv;
    if (!conv) return;
    let q = `/messages?conversation=${encodeURIComponent(conv)}&limit=30`;
    if (earlier && this.oldest) q += `&before=${encodeURIComponent(this.oldest)}`;
    try {
      const r = await this.authed<{ messages?: Message[]; has_more?: boolean; event_id?: string }>("GET", q);
      if (conv !== this.conv) return;
      const msgs = (r.messages || []).slice().sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
      if (msgs[0]?.id && (earlier || !this.oldest)) this.oldest = msgs[0].id;
      this.more.hidden = !r.has_more;
      const anchor = earlier ? this.greet.nextSibling : null;
      this.keepScroll(() => {
        for (const m of msgs) this.upsert(m, anchor);
      }, !earlier);
      return r.event_id;
    } catch (e) {
      this.failed(e);
    }
  }

  private onEvent(e: SseEvent): void {
    let d: Record<string, unknown> & Partial<Message>;
    try {
      d = JSON.parse(e.data);
    } catch {
      return;
    }
    if (!d || typeof d !== "object") return;
    const mid = typeof d.message_id === "string" ? d.message_id : "";
    this.arriving = true;
    try {
      this.handle(e.event, d, mid);
    } finally {
      this.arriving = false;
    }
  }

  private handle(event: string, d: Record<string, unknown> & Partial<Message>, mid: string): void {
    switch (event) {
      case "message":
        this.incoming(d as unknown as Message);
        break;
      case "delta": {
        const r = this.rows.get("id:" + mid) || this.upsert({ id: mid, role: "assistant", text: "" });
        if (r.msg.status === "complete" || typeof d.text !== "string") break;
        this.setTyping(false);
        r.streaming = true;
        r.msg.text += d.text;
        // Deltas that arrive within one frame are shown once, in that frame, with one look at
        // the scroll position.
        r.frame ||= requestAnimationFrame(() => {
          r.frame = 0;
          this.keepScroll(() => this.grow(r));
        });
        break;
      }
      case "formation": {
        const r = this.rows.get("id:" + mid) || this.upsert({ id: mid, role: "assistant", text: "" });
        r.msg.formation = d.formation as Formation;
        this.keepScroll(() => this.paint(r));
        break;
      }
      case "done":
        this.incoming({ role: "assistant", text: "", ...(d.message as Partial<Message>), id: (d.message as Message)?.id || mid });
        break;
      case "error":
        this.setTyping(false);
        if (mid) this.rows.get("id:" + mid)?.el.classList.add("e");
        this.note(this.t.error, true);
        this.setHuman();
        this.ctx.emit("error", d);
        break;
      case "typing":
        if (d.role !== "visitor") this.setTyping(!!d.on);
        break;
      case "handoff":
        this.setHandoff(String(d.state), (d.operator as { name?: string } | string | null) ?? null);
        break;
    }
  }

  /** A complete message from the stream (or a `done`). */
  private incoming(m: Message): void {
    if (!m || !m.role) return;
    const known = (m.id && this.rows.get("id:" + m.id)) || (m.client_id && this.rows.get("c:" + m.client_id));
    const wasDone = known && known.msg.status === "complete" && !known.streaming;
    // No more deltas: its last line is shown for good.
    if (known) known.streaming = false;
    if (m.role !== "visitor") this.setTyping(false);
    this.keepScroll(() => this.upsert({ status: "complete", ...m }));
    if (m.role === "visitor" || wasDone) return;
    if (!this.isOpen || document.hidden) this.setUnread(this.unread + 1);
    if (m.role !== "system") this.live.textContent = fmt(this.t.replied, { text: m.text.slice(0, 300) });
    this.ctx.emit("message", m);
  }

  // ---- rows ----

  /** Inserts or updates a message row (deduped by id and client_id). */
  private upsert(m: Message, before: Node | null = null): Row {
    let r = (m.id && this.rows.get("id:" + m.id)) || (m.client_id && this.rows.get("c:" + m.client_id)) || null;
    if (r) {
      const text = typeof m.text === "string" ? m.text : r.msg.text;
      // Usually the text streamed so far, grown; anything else is shown anew.
      if (!(text || "").startsWith(r.msg.text || "")) r.md = markdownStream(r.body);
      r.msg = { ...r.msg, ...m, text };
      if (m.id) r.local = undefined;
    } else {
      const body = h("div", { class: "b", dir: "auto" });
      const slot = h("div", { hidden: true });
      const status = h("div", { class: "sx", hidden: true });
      const el = h("div", { class: "m", part: "message" }, body, slot, status);
      r = { msg: { ...m }, el, body, slot, status, md: markdownStream(body) };
      this.list.insertBefore(el, before || (this.typingRow.parentNode ? this.typingRow : null));
    }
    if (r.msg.id) this.rows.set("id:" + r.msg.id, r);
    if (r.msg.client_id) this.rows.set("c:" + r.msg.client_id, r);
    this.paint(r);
    return r;
  }

  private paint(r: Row): void {
    const m = r.msg;
    const role = m.role === "visitor" || m.role === "operator" || m.role === "system" ? m.role : "assistant";
    r.el.className = `m ${role[0]}${r.local ? " q" : ""}${r.el.classList.contains("e") ? " e" : ""}`;
    r.el.setAttribute("data-role", role);
    let name = r.el.querySelector(".nm");
    if (role === "operator") {
      if (!name) r.el.prepend((name = h("div", { class: "nm", dir: "auto" })));
      name.textContent = m.operator_name || this.t.operator;
    } else name?.remove();
    this.grow(r);
    const f = m.formation;
    const key = JSON.stringify(f ?? null);
    if (key !== r.fkey) {
      r.fkey = key;
      r.slot.hidden = !f;
      r.slot.className = f ? "fw" : "";
      if (!f) r.slot.replaceChildren();
      else
        this.ov.place(
          r.slot,
          f,
          renderFormation(f, {
            t: this.t,
            send: (text) => this.post(text),
            detail: (id) => this.authed<{ formation: Formation }>("GET", `/products/${encodeURIComponent(id)}`).then((x) => x.formation),
          }),
          // The newest formation opens by itself when it arrives while the panel is open (not
          // from history), taking focus unless the visitor is in the composer.
          this.arriving && this.isOpen,
          this.ctx.root.activeElement !== this.input,
        );
    }
    let ts = r.el.querySelector("time");
    const when = m.created_at ? new Date(m.created_at) : null;
    if (when && !isNaN(+when)) {
      if (!ts) r.el.appendChild((ts = h("time", { class: "ts" })));
      ts.setAttribute("datetime", when.toISOString());
      ts.textContent = when.toLocaleTimeString(this.locale, { hour: "2-digit", minute: "2-digit" });
    }
    const s = r.local;
    r.status.hidden = !s;
    if (s === "failed") {
      const b = h("button", { type: "button" }, this.t.failed);
      b.addEventListener("click", () => {
        if (!m.client_id) return;
        this.outbox.add(m.client_id, m.text);
        this.setLocal(m.client_id, "sending");
        void this.pump();
      });
      r.status.replaceChildren(b);
    } else r.status.textContent = s ? (s === "queued" ? this.t.queued : this.t.sending) : "";
  }

  /** Shows the row's text as far as it has come; while deltas stream in, its last line may wait. */
  private grow(r: Row): void {
    r.md(r.msg.text || "", !r.streaming);
    r.body.hidden = !r.msg.text;
  }

  private localRow(client_id: string, text: string, local: Local): Row {
    const r = this.rows.get("c:" + client_id) || this.upsert({ role: "visitor", text, client_id, created_at: new Date().toISOString() });
    r.local = local;
    this.paint(r);
    return r;
  }

  private setLocal(client_id: string, local: Local | undefined): void {
    const r = this.rows.get("c:" + client_id);
    if (r && !r.msg.id) {
      r.local = local;
      this.paint(r);
    }
  }

  /** A system note (not from the server): errors, rate limits, handoff changes. */
  private note(text: string, error = false): void {
    const r = this.keepScroll(() => this.upsert({ role: "system", text, id: "note:" + uuid() }));
    if (error) r.el.classList.add("e");
    this.live.textContent = text;
  }

  // ---- sending ----

  private submit(): void {
    const text = this.input.value;
    if (!text.trim() || this.fatal) return;
    this.input.value = "";
    this.autosize();
    this.post(text);
  }

  private post(raw: string): void {
    const text = raw.trim();
    if (!text || this.fatal) return;
    for (const q of this.list.querySelectorAll(".qr")) q.remove();
    const client_id = uuid();
    this.outbox.add(client_id, text);
    this.keepScroll(() => this.localRow(client_id, text, "sending"), true);
    void this.pump();
  }

  /** Sends queued messages one at a time, oldest first. */
  private async pump(): Promise<void> {
    if (this.pumping || this.fatal) return;
    this.pumping = true;
    try {
      for (let item = this.outbox.tick(); item; item = this.outbox.tick()) {
        const { client_id, text } = item;
        if (!navigator.onLine) {
          for (const i of this.outbox.mine()) this.setLocal(i.client_id, "queued");
          break;
        }
        if (!this.rows.has("c:" + client_id)) this.localRow(client_id, text, "sending");
        this.setLocal(client_id, "sending");
        try {
          const res = await this.authed<{ message?: Message; conversation?: unknown; event_id?: string }>("POST", "/messages", {
            text,
            client_id,
            conversation: this.conv || undefined,
          });
          this.outbox.remove(client_id);
          const conv = idOf(res.conversation) || res.message?.conversation_id;
          if (conv) this.setConversation(conv, false, res.event_id);
          const r = this.rows.get("c:" + client_id);
          if (r) {
            r.local = undefined;
            this.upsert({ ...r.msg, ...(res.message || {}), role: "visitor", client_id });
          }
          // The typing indicator follows the stream's `typing` events: the reply may already be done.
        } catch (e) {
          if (e instanceof ApiError && !e.transient) {
            this.outbox.remove(client_id);
            this.setLocal(client_id, "failed");
            this.failed(e);
            if (!this.fatal && e.message) this.note(e.message, true);
            continue;
          }
          const wait = e instanceof ApiError && e.retryAfter != null ? e.retryAfter : 0;
          this.outbox.update(client_id, { due: Date.now() + (wait * 1000 || backoff(item.tries)), tries: item.tries + 1 });
          this.setLocal(client_id, "queued");
          if (wait && e instanceof ApiError && e.status === 429) this.note(fmt(this.t.rateLimited, { n: wait }), true);
          break;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async requestHuman(): Promise<void> {
    if (!this.conv) return;
    this.human.disabled = true;
    try {
      await this.authed("POST", "/handoff", { conversation: this.conv });
      this.setHandoff("requested", null);
    } catch (e) {
      this.failed(e);
      if (!this.fatal) this.note(this.t.error, true);
    } finally {
      this.human.disabled = false;
    }
  }

  private setHandoff(state: string, operator: { name?: string } | string | null): void {
    if (state === this.handoff) return;
    this.handoff = state;
    const name = typeof operator === "string" ? operator : operator?.name;
    const t = this.t;
    const text =
      state === "requested" ? t.handoffRequested : state === "active" ? (name ? fmt(t.handoffActive, { name }) : t.handoffActiveAnon) : state === "ended" ? t.handoffEnded : "";
    if (text) this.note(text);
    this.setHuman();
    this.ctx.emit("handoff", { state, operator });
  }

  // ---- small UI state ----

  private setHuman(): void {
    this.human.hidden = !this.conv || this.handoff === "requested" || this.handoff === "active";
  }

  private setTyping(on: boolean): void {
    if (on === !!this.typingRow.parentNode) return;
    this.keepScroll(() => (on ? this.list.appendChild(this.typingRow) : this.typingRow.remove()));
  }

  private setUnread(n: number): void {
    this.unread = n;
    this.ctx.badge.textContent = n > 99 ? "99+" : String(n);
    this.ctx.badge.hidden = !n;
    this.label();
    this.ctx.emit("unread", { count: n });
  }

  private setOpen(open: boolean): void {
    this.ctx.frame.classList.toggle("open", open);
    this.label();
  }

  /** The launcher's accessible name and state. */
  private label(): void {
    const l = this.ctx.launcher;
    if (!l) return;
    const t = this.t;
    const name = this.isOpen ? t.close : this.unread ? `${t.openChat} (${this.unread} ${t.unread})` : t.openChat;
    setAttrs(l, { "aria-label": name, "aria-expanded": String(this.isOpen) });
  }

  private reconnecting = false;
  private setBanner(reconnecting = this.reconnecting): void {
    this.reconnecting = reconnecting;
    const offline = !navigator.onLine;
    this.banner.textContent = offline ? this.t.offline : this.t.reconnecting;
    this.banner.hidden = !offline && !reconnecting;
  }

  private autosize(): void {
    // Fallback for browsers without `field-sizing: content`: grow by lines, up to 5.
    this.input.rows = Math.min(5, Math.max(1, this.input.value.split("\n").length));
  }

  /** Runs a DOM change and keeps the list pinned to the bottom if it was (or `force`). */
  private keepScroll<T>(fn: () => T, force = false): T {
    const l = this.list;
    const pinned = force || l.scrollHeight - l.scrollTop - l.clientHeight < 48;
    const out = fn();
    if (pinned) this.scrollDown();
    return out;
  }

  private scrollDown(): void {
    this.list.scrollTop = this.list.scrollHeight;
  }

  /** Full screen on phones follows the visual viewport, so the keyboard never hides the composer. */
  private fit(): void {
    const vv = window.visualViewport;
    if (!vv || !this.isOpen) return;
    this.ctx.host.style.setProperty("--ks-vh", `${Math.round(vv.height)}px`);
    this.ctx.host.style.setProperty("--ks-vt", `${Math.round(vv.offsetTop)}px`);
  }

  /** On a full-screen phone panel, touches outside a scrollable area must not scroll the page. */
  private lockScroll(e: TouchEvent): void {
    if (window.innerWidth >= 480) return;
    for (const n of e.composedPath()) {
      if (n === this.panel) break;
      const el = n as HTMLElement;
      if (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1) return;
    }
    if (e.cancelable) e.preventDefault();
  }
}

