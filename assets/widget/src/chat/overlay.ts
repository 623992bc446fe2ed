// The formation overlay: on wide screens (≥ 1024 px) a cards, detail or comparison formation
// is shown in a larger dialog beside the panel, while its message keeps a compact line
// ("4 products · Show"). A formation's element is moved, never re-rendered, between its message
// and the overlay, so what the visitor did in it (Details, Back, a gallery image) survives
// opening, closing and the window crossing 1024 px. Below that, CSS shows formations inline.

import { h, icon } from "../shared/dom";
import { CLOSE } from "../shared/icons";
import type { Formation } from "./formations";
import { fmt, products, type Strings } from "./i18n";

/** The compact line's label for a formation the overlay can show; "" for any other. */
export function compactLabel(f: Formation, t: Strings): string {
  const n = f.items?.length || 0;
  return f.kind === "cards" && n
    ? products(n, t)
    : f.kind === "detail" && (f.item || n)
      ? t.details
      : f.kind === "comparison" && n > 1
        ? fmt(t.compare, { n: products(n, t) })
        : "";
}

/** A formation that can go to the overlay: its message's slot, its element, its compact line. */
export interface Entry {
  slot: HTMLElement;
  fe: HTMLElement;
  cl: HTMLButtonElement;
  label: string;
}

export const WIDE = "(min-width: 1024px)";

export class Overlay {
  readonly el: HTMLElement;
  /** The entry the overlay shows when it is open. */
  cur: Entry | null = null;
  /** The visitor has it open (it shows only while the panel is open and the screen is wide). */
  on = false;
  /** Whether the chat panel is open (set by the chat). */
  panel = false;
  private body: HTMLElement;
  private head: HTMLElement;
  private x: HTMLButtonElement;
  /** The entry whose element is in the overlay now. */
  private shown: Entry | null = null;
  private mq = matchMedia(WIDE);
  private off: () => void;

  constructor(
    frame: HTMLElement,
    panelEl: HTMLElement,
    public t: Strings,
  ) {
    this.head = h("div", { class: "tt", dir: "auto" });
    this.x = h("button", { type: "button", class: "ib" }, icon(CLOSE));
    this.x.addEventListener("click", () => this.close());
    this.body = h("div", { class: "ob" });
    this.el = h("div", { class: "ov", part: "overlay", role: "dialog", tabindex: -1 }, h("div", { class: "oh" }, this.head, this.x), this.body);
    this.el.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      e.stopPropagation();
      this.close();
    });
    frame.appendChild(this.el);
    this.lang(t);
    const sync = () => this.sync();
    // A click on the page (not on the overlay or the panel) closes it.
    const down = (e: Event) => this.visible && !e.composedPath().some((n) => n === this.el || n === panelEl) && this.close(false);
    this.mq.addEventListener("change", sync);
    document.addEventListener("pointerdown", down, true);
    this.off = () => {
      this.mq.removeEventListener("change", sync);
      document.removeEventListener("pointerdown", down, true);
      this.el.remove();
    };
  }

  get visible(): boolean {
    return !!this.cur && this.on && this.panel && this.mq.matches;
  }

  lang(t: Strings): void {
    this.t = t;
    this.x.setAttribute("aria-label", t.hide);
    this.x.setAttribute("title", t.hide);
  }

  /**
   * Puts a formation's element `fe` into its message's `slot`, with a compact line when the
   * overlay can show it. `open`: it has just arrived live, so it replaces what the overlay shows
   * and opens it (moving focus into it when `focus`).
   */
  place(slot: HTMLElement, f: Formation, fe: HTMLElement, open: boolean, focus: boolean): void {
    const label = compactLabel(f, this.t);
    const e: Entry | null = label
      ? { slot, fe, label: f.title || label, cl: h("button", { type: "button", class: "cl", "aria-haspopup": "dialog", "aria-expanded": "false" }, label, " · ", h("b", null, this.t.show)) }
      : null;
    if (e) e.cl.addEventListener("click", () => (this.visible && this.cur === e ? this.close() : this.open(e)));
    slot.replaceChildren(...(e ? [e.cl, fe] : [fe]));
    if (this.cur?.slot === slot) this.cur = e;
    if (e && open) this.open(e, focus);
    else this.sync();
  }

  open(e: Entry, focus = true): void {
    this.cur = e;
    this.on = true;
    this.sync();
    if (focus && this.visible) this.el.focus({ preventScroll: true });
  }

  /** Closes it; focus inside it goes back to the compact line it was opened from (with `refocus`). */
  close(refocus = true): void {
    if (!this.on) return;
    const root = this.el.getRootNode() as ShadowRoot;
    const had = this.el.contains(root.activeElement);
    this.on = false;
    this.sync();
    if (had && refocus) this.cur?.cl.focus({ preventScroll: true });
  }

  /** Forgets every formation (the conversation was reset). */
  clear(): void {
    this.cur = null;
    this.on = false;
    this.sync();
  }

  /** Moves the current formation to where it belongs now and shows or hides the overlay. */
  sync(): void {
    const want = this.visible ? this.cur : null;
    const s = this.shown;
    if (s?.fe !== want?.fe) {
      const root = this.el.getRootNode() as ShadowRoot;
      const a = root.activeElement as HTMLElement | null;
      // Back into its message, unless that message has been re-rendered since.
      if (s) s.cl.parentNode === s.slot ? s.slot.appendChild(s.fe) : s.fe.remove();
      if (want) this.body.replaceChildren(want.fe);
      // Moving a node takes focus from inside it: give it back.
      if (a && a !== root.activeElement && a.isConnected) a.focus({ preventScroll: true });
    }
    this.shown = want;
    if (want) {
      this.head.textContent = want.label;
      this.el.setAttribute("aria-label", want.label);
    }
    this.el.classList.toggle("on", !!want);
    for (const e of [s, this.cur]) e?.cl.setAttribute("aria-expanded", String(!!want && e === want));
  }

  destroy(): void {
    this.off();
  }
}
