// Formation renderers (SPEC §6): cards (grid | list | carousel), detail, comparison,
// quick_replies; unknown kinds show fallback_text. Server strings only ever go in as text.

import { h, icon } from "../shared/dom";
import { fmt, type Strings } from "./i18n";
import { extLink, safeUrl } from "./markdown";

export interface Price {
  amount?: number;
  currency?: string;
  display?: string;
}

export type Attributes = Record<string, unknown> | { name?: string; label?: string; value?: unknown }[];

export interface Action {
  kind: string;
  url?: string;
  text?: string;
  label?: string;
}

export interface Item {
  id?: string;
  title?: string;
  subtitle?: string;
  image?: string | null;
  images?: string[];
  price?: Price | string | null;
  compare_at?: Price | string | null;
  rating?: number | null;
  badges?: string[];
  url?: string | null;
  actions?: Action[];
  description?: string;
  availability?: string;
  attributes?: Attributes;
}

export interface Formation {
  v?: number;
  kind: string;
  layout?: string;
  title?: string;
  items?: Item[];
  item?: Item;
  rows?: { label?: string; name?: string; values?: unknown[] }[];
  options?: (string | { text?: string; label?: string })[];
  fallback_text?: string;
}

export interface FormationContext {
  t: Strings;
  /** Sends text as the visitor (quick replies, "ask" actions). */
  send(text: string): void;
  /** Fetches a product's `detail` formation. */
  detail(id: string): Promise<Formation>;
}

const str = (v: unknown): string =>
  v == null ? "" : Array.isArray(v) ? v.map(str).filter(Boolean).join(", ") : typeof v === "object" ? "" : String(v);

const priceText = (p: Item["price"]) => (p == null ? "" : typeof p === "string" ? p : str(p.display));

const ARROW_L = "M15.4 6.4 14 5l-7 7 7 7 1.4-1.4L9.8 12z";
const ARROW_R = "M8.6 6.4 10 5l7 7-7 7-1.4-1.4 5.6-5.6z";
const PHOTO = "M5 4h14a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm0 13h14l-4.5-6-3.5 4.5-2.5-3z";

/** A square product image; a neutral placeholder when missing, non-http(s) or broken. */
export function productImage(src: unknown, alt = ""): HTMLElement {
  const box = h("div", { class: "im" });
  const ph = () => box.replaceChildren(h("div", { class: "ph" }, icon(PHOTO)));
  const url = safeUrl(src);
  if (!url) {
    ph();
    return box;
  }
  const img = h("img", { src: url, alt, loading: "lazy", decoding: "async", referrerpolicy: "no-referrer" });
  img.addEventListener("error", ph, { once: true });
  box.appendChild(img);
  return box;
}

function priceRow(item: Item): HTMLElement | null {
  const now = priceText(item.price);
  const was = priceText(item.compare_at);
  if (!now && !was) return null;
  return h("div", { class: "pr" }, now && h("b", null, now), was && h("s", null, was));
}

function rating(r: unknown, t: Strings): HTMLElement | null {
  if (typeof r !== "number" || !isFinite(r) || r <= 0) return null;
  const v = Math.min(5, r);
  const full = Math.round(v);
  const n = String(Math.round(v * 10) / 10);
  return h(
    "div",
    { class: "rt", role: "img", "aria-label": fmt(t.rating, { n }) },
    h("span", { class: "st", "aria-hidden": "true" }, "★".repeat(full) + "☆".repeat(5 - full)),
    h("span", { "aria-hidden": "true" }, n),
  );
}

/** The actions of a card: Details (detail formation), Open (http/https link), Ask (sends text). */
function actions(item: Item, slot: HTMLElement, ctx: FormationContext): HTMLElement | null {
  const list = item.actions?.length
    ? item.actions
    : [{ kind: "detail" }, { kind: "link", url: item.url || undefined }];
  const out = h("div", { class: "ac" });
  for (const a of list) {
    if (a.kind === "detail" && item.id) {
      const id = item.id;
      const b = h("button", { type: "button", class: "bt" }, a.label || ctx.t.details);
      b.addEventListener("click", () => showDetail(id, slot, ctx, b));
      out.appendChild(b);
    } else if (a.kind === "link") {
      const href = safeUrl(a.url || item.url);
      if (href) out.appendChild(extLink(href, a.label || ctx.t.open));
    } else if (a.kind === "ask" && a.text) {
      const text = a.text;
      const b = h("button", { type: "button", class: "bt" }, a.label || text);
      b.addEventListener("click", () => ctx.send(text));
      out.appendChild(b);
    }
  }
  for (const el of out.querySelectorAll("a")) el.classList.add("bt");
  return out.childNodes.length ? out : null;
}

async function showDetail(id: string, slot: HTMLElement, ctx: FormationContext, btn: HTMLButtonElement) {
  if (btn.getAttribute("aria-busy")) return;
  btn.setAttribute("aria-busy", "true");
  const prev = [...slot.childNodes];
  try {
    const f = await ctx.detail(id);
    const back = h("button", { type: "button", class: "bt bk" }, icon(ARROW_L), ctx.t.back);
    back.addEventListener("click", () => {
      slot.replaceChildren(...prev);
      btn.focus();
    });
    slot.replaceChildren(back, render(f, ctx, slot));
    back.focus();
  } catch {
    const note = h("div", { class: "fe", role: "status" }, ctx.t.detailFailed);
    btn.parentElement?.after(note);
    setTimeout(() => note.remove(), 4000);
  } finally {
    btn.removeAttribute("aria-busy");
  }
}

export function card(item: Item, slot: HTMLElement, ctx: FormationContext): HTMLElement {
  const badges = (item.badges || []).filter((b) => typeof b === "string" && b).slice(0, 2);
  return h(
    "div",
    { class: "cd", part: "card", role: "listitem" },
    productImage(item.image ?? item.images?.[0]),
    h(
      "div",
      { class: "cb" },
      badges.length ? h("div", { class: "bg" }, badges.map((b) => h("span", null, b))) : null,
      h("div", { class: "ti", dir: "auto" }, str(item.title)),
      item.subtitle ? h("div", { class: "su", dir: "auto" }, str(item.subtitle)) : null,
      priceRow(item),
      rating(item.rating, ctx.t),
      actions(item, slot, ctx),
    ),
  );
}

function cards(f: Formation, ctx: FormationContext, slot: HTMLElement): HTMLElement {
  const layout = f.layout === "list" || f.layout === "carousel" ? f.layout : "grid";
  const track = h("div", { class: "tr", role: "list" }, (f.items || []).map((it) => card(it, slot, ctx)));
  const el = h("div", { class: "cards " + layout, "data-layout": layout }, f.title ? h("div", { class: "fh", dir: "auto" }, f.title) : null);
  if (layout !== "carousel") {
    el.appendChild(track);
    return el;
  }
  track.tabIndex = 0;
  if (f.title) track.setAttribute("aria-label", f.title);
  const step = (dir: number) => {
    const first = track.firstElementChild as HTMLElement | null;
    const d = dir * ((first?.offsetWidth || 180) + 8);
    const smooth = !matchMedia("(prefers-reduced-motion: reduce)").matches;
    if (track.scrollBy) track.scrollBy({ left: d, behavior: smooth ? "smooth" : "auto" });
    else track.scrollLeft += d;
  };
  const nav = (dir: number, label: string, path: string) => {
    const b = h("button", { type: "button", class: "nv " + (dir < 0 ? "pv" : "nx"), "aria-label": label }, icon(path));
    b.addEventListener("click", () => step(dir));
    return b;
  };
  track.addEventListener("keydown", (e) => {
    if (e.target !== track) return;
    const rtl = getComputedStyle(track).direction === "rtl" ? -1 : 1;
    if (e.key === "ArrowRight") step(rtl);
    else if (e.key === "ArrowLeft") step(-rtl);
    else return;
    e.preventDefault();
  });
  el.appendChild(h("div", { class: "cw" }, nav(-1, ctx.t.prev, ARROW_L), track, nav(1, ctx.t.next, ARROW_R)));
  return el;
}

/** Attributes as [name, value] pairs, from an object or an array of {name|label, value}. */
export function attrPairs(a: Attributes | undefined): [string, string][] {
  if (!a || typeof a !== "object") return [];
  const pairs: [string, string][] = Array.isArray(a)
    ? a.map((x) => [str(x?.name ?? x?.label), str(x?.value)])
    : Object.keys(a).map((k) => [k, str(a[k])]);
  return pairs.filter(([k, v]) => k && v);
}

function detail(f: Formation, ctx: FormationContext): HTMLElement | null {
  const item = f.item || f.items?.[0];
  if (!item) return null;
  const imgs = (item.images?.length ? item.images : [item.image]).filter((s) => safeUrl(s));
  const main = h("div", { class: "gm" }, productImage(imgs[0], str(item.title)));
  const thumbs =
    imgs.length > 1
      ? h(
          "div",
          { class: "gt" },
          imgs.slice(0, 8).map((src, i) => {
            const b = h("button", { type: "button", "aria-label": `${i + 1} / ${imgs.length}` }, productImage(src));
            b.addEventListener("click", () => main.replaceChildren(productImage(src, str(item.title))));
            return b;
          }),
        )
      : null;
  const attrs = attrPairs(item.attributes);
  return h(
    "div",
    { class: "dt", part: "card" },
    main,
    thumbs,
    h("div", { class: "ti", dir: "auto" }, str(item.title)),
    item.subtitle ? h("div", { class: "su", dir: "auto" }, str(item.subtitle)) : null,
    priceRow(item),
    rating(item.rating, ctx.t),
    item.availability ? h("div", { class: "av", dir: "auto" }, str(item.availability)) : null,
    item.description ? h("div", { class: "ds", dir: "auto" }, str(item.description)) : null,
    attrs.length
      ? h("table", { class: "at" }, h("tbody", null, attrs.map(([k, v]) => h("tr", null, h("th", { scope: "row", dir: "auto" }, k), h("td", { dir: "auto" }, v)))))
      : null,
    // No id: a detail view offers no "Details" of itself.
    actions({ ...item, id: undefined }, main, ctx),
  );
}

function comparison(f: Formation, ctx: FormationContext): HTMLElement | null {
  const items = f.items || [];
  if (items.length < 2) return null;
  let rows: [string, string[]][];
  if (f.rows?.length) {
    rows = f.rows.map((r) => [str(r.label ?? r.name), items.map((_, i) => str(r.values?.[i]))]);
  } else {
    const maps = items.map((it) => new Map(attrPairs(it.attributes)));
    const names = [...new Set(maps.flatMap((m) => [...m.keys()]))];
    rows = names.map((n) => [n, maps.map((m) => m.get(n) || "")]);
  }
  const head = h(
    "tr",
    null,
    h("td"),
    items.map((it) => h("th", { scope: "col" }, productImage(it.image ?? it.images?.[0]), h("div", { class: "ti", dir: "auto" }, str(it.title)), priceRow(it))),
  );
  const body = rows.map(([label, vals]) => {
    const differ = new Set(vals.map((v) => v.trim().toLowerCase())).size > 1;
    return h(
      "tr",
      { class: differ ? "df" : null },
      h("th", { scope: "row", dir: "auto" }, label),
      vals.map((v) => h("td", { dir: "auto" }, v || "—")),
    );
  });
  return h(
    "div",
    { class: "cmp", part: "card" },
    f.title ? h("div", { class: "fh", dir: "auto" }, f.title) : null,
    h("div", { class: "cx", tabindex: "0", role: "region", "aria-label": f.title || null }, h("table", null, h("thead", null, head), h("tbody", null, body))),
  );
}

function quickReplies(f: Formation, ctx: FormationContext): HTMLElement | null {
  const opts = (f.options || f.items || [])
    .map((o) => (typeof o === "string" ? { text: o, label: o } : { text: str((o as { text?: string }).text ?? (o as Item).title), label: str((o as { label?: string }).label) }))
    .filter((o) => o.text);
  if (!opts.length) return null;
  const el = h("div", { class: "qr" });
  for (const o of opts) {
    const b = h("button", { type: "button", class: "chip", dir: "auto" }, o.label || o.text);
    b.addEventListener("click", () => {
      el.remove();
      ctx.send(o.text);
    });
    el.appendChild(b);
  }
  return el;
}

function render(f: Formation, ctx: FormationContext, slot: HTMLElement): HTMLElement {
  let el: HTMLElement | null = null;
  if (f && typeof f === "object") {
    if (f.kind === "cards" && f.items?.length) el = cards(f, ctx, slot);
    else if (f.kind === "detail") el = detail(f, ctx);
    else if (f.kind === "comparison") el = comparison(f, ctx);
    else if (f.kind === "quick_replies") el = quickReplies(f, ctx);
  }
  return el || h("div", { class: "fb", dir: "auto" }, str(f?.fallback_text));
}

/** Renders a formation into a slot that "Details" can swap in place (with a Back button). */
export function renderFormation(f: Formation, ctx: FormationContext): HTMLElement {
  const slot = h("div", { class: "fs" });
  slot.appendChild(render(f, ctx, slot));
  return slot;
}
