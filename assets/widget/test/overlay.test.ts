import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Formation } from "../src/chat/formations";
import { STRINGS, products } from "../src/chat/i18n";
import { Overlay, compactLabel } from "../src/chat/overlay";

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `p${i}`, title: `Item ${i}` }));
const cards = (n: number, title?: string): Formation => ({ kind: "cards", layout: "grid", title, items: items(n) });

/** happy-dom's viewport: matchMedia follows it and fires "change" on resize. */
const viewport = (width: number) => (window as unknown as { happyDOM: { setViewport(v: { width: number }): void } }).happyDOM.setViewport({ width });

describe("compact line text", () => {
  it("counts products in English", () => {
    const t = STRINGS.en;
    expect([0, 1, 2, 4, 11, 21].map((n) => products(n, t))).toEqual(["0 products", "1 product", "2 products", "4 products", "11 products", "21 products"]);
    expect(compactLabel(cards(4), t)).toBe("4 products");
    expect(compactLabel(cards(1), t)).toBe("1 product");
    expect(compactLabel({ kind: "detail", item: { id: "p1" } }, t)).toBe("Details");
    expect(compactLabel({ kind: "detail", items: items(1) }, t)).toBe("Details");
    expect(compactLabel({ kind: "comparison", items: items(3) }, t)).toBe("Compare 3 products");
  });

  it("uses the Russian plural forms", () => {
    const t = STRINGS.ru;
    const got = [1, 2, 3, 4, 5, 11, 12, 14, 20, 21, 22, 25, 101, 111, 112, 1000].map((n) => products(n, t));
    expect(got).toEqual([
      "1 товар", "2 товара", "3 товара", "4 товара", "5 товаров", "11 товаров", "12 товаров", "14 товаров", "20 товаров",
      "21 товар", "22 товара", "25 товаров", "101 товар", "111 товаров", "112 товаров", "1000 товаров",
    ]);
    expect(compactLabel(cards(4), t)).toBe("4 товара");
    expect(compactLabel({ kind: "detail", item: { id: "p1" } }, t)).toBe("Подробнее");
    expect(compactLabel({ kind: "comparison", items: items(5) }, t)).toBe("Сравнение: 5 товаров");
  });

  it("is empty for what stays inline", () => {
    const t = STRINGS.en;
    expect(compactLabel(cards(0), t)).toBe("");
    expect(compactLabel({ kind: "detail" }, t)).toBe("");
    expect(compactLabel({ kind: "comparison", items: items(1) }, t)).toBe("");
    expect(compactLabel({ kind: "quick_replies", options: ["a"] }, t)).toBe("");
    expect(compactLabel({ kind: "mystery", items: items(3) }, t)).toBe("");
  });
});

describe("overlay", () => {
  let frame: HTMLElement;
  let panel: HTMLElement;
  let root: ShadowRoot;
  let ov: Overlay;

  /** A message slot in the panel and a formation element with something to keep. */
  function message(f: Formation, open = false, focus = true) {
    const slot = document.createElement("div");
    panel.appendChild(slot);
    const fe = document.createElement("div");
    fe.className = "fs";
    const btn = document.createElement("button");
    fe.appendChild(btn);
    ov.place(slot, f, fe, open, focus);
    return { slot, fe, btn, cl: slot.querySelector<HTMLButtonElement>(".cl") };
  }
  const shown = () => ov.el.classList.contains("on");
  const inOverlay = (el: Element) => ov.el.contains(el);

  beforeEach(() => {
    viewport(1280);
    const host = document.createElement("div");
    document.body.replaceChildren(host);
    root = host.attachShadow({ mode: "open" });
    frame = document.createElement("div");
    panel = document.createElement("div");
    frame.appendChild(panel);
    root.appendChild(frame);
    ov = new Overlay(frame, panel, STRINGS.en);
    ov.panel = true;
  });

  afterEach(() => {
    ov.destroy();
    viewport(1024);
  });

  it("is a named dialog, hidden until opened; the message keeps a compact line", () => {
    const m = message(cards(4, "Tents under $300"));
    expect(ov.el.getAttribute("role")).toBe("dialog");
    expect(ov.el.getAttribute("part")).toBe("overlay");
    expect(shown()).toBe(false);
    expect(m.cl!.textContent).toBe("4 products · Show");
    expect(m.cl!.getAttribute("aria-haspopup")).toBe("dialog");
    expect([...m.slot.children]).toEqual([m.cl, m.fe]);
    expect(ov.el.querySelector(".ib")!.getAttribute("aria-label")).toBe("Close");

    m.cl!.click();
    expect(shown()).toBe(true);
    expect(inOverlay(m.fe)).toBe(true);
    expect(ov.el.getAttribute("aria-label")).toBe("Tents under $300");
    expect(m.cl!.getAttribute("aria-expanded")).toBe("true");
    expect(root.activeElement).toBe(ov.el);
  });

  it("Esc and the close button close it, the same element goes back, focus returns to the compact line", () => {
    const m = message(cards(3));
    m.cl!.click();
    m.btn.focus();
    m.btn.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(shown()).toBe(false);
    expect(m.fe.parentNode).toBe(m.slot);
    expect(m.fe.firstChild).toBe(m.btn);
    expect(root.activeElement).toBe(m.cl);
    expect(m.cl!.getAttribute("aria-expanded")).toBe("false");

    m.cl!.click();
    expect(shown()).toBe(true);
    ov.el.querySelector<HTMLButtonElement>(".oh .ib")!.click();
    expect(shown()).toBe(false);
    expect(root.activeElement).toBe(m.cl);
    // The compact line toggles.
    m.cl!.click();
    m.cl!.click();
    expect(shown()).toBe(false);
  });

  it("a click on the page closes it, a click in the panel does not", () => {
    const m = message(cards(3));
    m.cl!.click();
    panel.dispatchEvent(new Event("pointerdown", { bubbles: true, composed: true }));
    expect(shown()).toBe(true);
    m.btn.dispatchEvent(new Event("pointerdown", { bubbles: true, composed: true }));
    expect(shown()).toBe(true);
    document.body.dispatchEvent(new Event("pointerdown", { bubbles: true, composed: true }));
    expect(shown()).toBe(false);
    expect(m.fe.parentNode).toBe(m.slot);
  });

  it("a formation arriving live opens it and replaces the one shown", () => {
    const a = message(cards(3), true);
    expect(shown()).toBe(true);
    expect(inOverlay(a.fe)).toBe(true);
    expect(root.activeElement).toBe(ov.el);
    const composer = document.createElement("textarea");
    panel.appendChild(composer);
    composer.focus();
    const b = message({ kind: "detail", item: { id: "p1", title: "Tent" } }, true, false);
    expect(inOverlay(b.fe)).toBe(true);
    expect(a.fe.parentNode).toBe(a.slot);
    expect(ov.el.getAttribute("aria-label")).toBe("Details");
    expect(b.cl!.textContent).toBe("Details · Show");
    expect(a.cl!.getAttribute("aria-expanded")).toBe("false");
    expect(b.cl!.getAttribute("aria-expanded")).toBe("true");
    // Opened without taking focus: the visitor stays in the composer.
    expect(root.activeElement).toBe(composer);
    a.cl!.click();
    expect(inOverlay(a.fe)).toBe(true);
    expect(b.fe.parentNode).toBe(b.slot);
  });

  it("a re-rendered formation replaces its old element; what stays inline gets no compact line", () => {
    const a = message(cards(3), true);
    const fe2 = document.createElement("div");
    ov.place(a.slot, cards(5), fe2, false, false);
    expect(inOverlay(fe2)).toBe(true);
    expect(a.fe.isConnected).toBe(false);
    expect(a.slot.querySelector(".cl")!.textContent).toBe("5 products · Show");
    const fe3 = document.createElement("div");
    ov.place(a.slot, { kind: "quick_replies", options: ["x"] }, fe3, true, true);
    expect([...a.slot.children]).toEqual([fe3]);
    expect(shown()).toBe(false);
  });

  it("shows only while the panel is open", () => {
    const m = message(cards(3), true);
    ov.panel = false;
    ov.close(false);
    expect(shown()).toBe(false);
    expect(m.fe.parentNode).toBe(m.slot);
    ov.panel = true;
    ov.sync();
    expect(shown()).toBe(false);
  });

  it("moves inline below 1024 px and back, keeping the same element and the focus in it", () => {
    // (happy-dom's first "change" only fires once the query has matched after a resize, so the
    // test starts narrow.)
    viewport(800);
    // A live formation on a narrow screen stays inline, and is remembered for when it widens.
    const m = message(cards(3), true);
    expect(shown()).toBe(false);
    expect(m.fe.parentNode).toBe(m.slot);
    viewport(1100);
    expect(shown()).toBe(true);
    expect(inOverlay(m.fe)).toBe(true);
    m.btn.focus();
    viewport(800);
    expect(shown()).toBe(false);
    expect(m.fe.parentNode).toBe(m.slot);
    expect(root.activeElement).toBe(m.btn);
    viewport(1024);
    expect(shown()).toBe(true);
    expect(inOverlay(m.fe)).toBe(true);
    expect(root.activeElement).toBe(m.btn);
  });

  it("clear() forgets it and destroy() removes it", () => {
    const m = message(cards(3), true);
    ov.clear();
    expect(shown()).toBe(false);
    expect(m.fe.parentNode).toBe(m.slot);
    ov.destroy();
    expect(ov.el.isConnected).toBe(false);
  });
});
