// The formation overlay on wide screens: products open in a larger dialog beside the panel while
// the message keeps a compact line; Details and Back work inside it; Esc, the close button and a
// click on the page close it (Esc: the overlay first, then the panel) and focus comes back; a
// window resized across 1024 px moves the formation inline and back without losing the view; a
// closed overlay leaves no layer over the page. Below 1024 px formations stay inline.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Widget, hitTest, shot, until } from "../lib/browser.mjs";
import { startStack } from "../lib/stack.mjs";

const WIDE = { viewport: { width: 1280, height: 800 }, locale: "en-US" };
const NARROW = { viewport: { width: 800, height: 900 }, locale: "en-US" };

let s;
before(async () => {
  s = await startStack({ tenants: ["demo", "demo-ru"] });
});
after(() => s?.close());

/** The focused element inside the widget: "launcher", "overlay", "compact", "back", … */
const focused = (page) =>
  page.evaluate(() => {
    const a = document.activeElement;
    if (a?.localName !== "keepstar-widget") return a ? `page:${a.localName}` : null;
    const el = a.shadowRoot.activeElement;
    if (!el) return "widget:?";
    if (el.matches(".cl")) return "compact";
    if (el.matches(".ov")) return "overlay";
    if (el.matches(".bk")) return el.closest(".ov") ? "overlay:back" : "back";
    if (el.matches("textarea")) return "composer";
    return el.closest(".ov") ? `overlay:${el.localName}` : el.getAttribute("part") || el.localName;
  });

/** Boxes of the panel, the overlay, the launcher and the card grid, as the page lays them out. */
function layout(root) {
  const box = (el) => {
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { x: Math.round(r.x), y: Math.round(r.y), r: Math.round(r.right), b: Math.round(r.bottom), w: Math.round(r.width), h: Math.round(r.height) };
  };
  const ov = root.querySelector(".ov");
  const cs = getComputedStyle(ov);
  const cards = [...ov.querySelectorAll(".cd")].map(box);
  const top = cards[0]?.y;
  return {
    panel: box(root.querySelector("[part=panel]")),
    launcher: box(root.querySelector("[part=launcher]")),
    overlay: box(ov),
    shown: cs.visibility === "visible" && cs.opacity === "1" && ov.getAnimations().every((a) => a.playState !== "running"),
    role: ov.getAttribute("role"),
    label: ov.getAttribute("aria-label"),
    transition: cs.transitionDuration,
    cards: cards.length,
    firstRow: cards.filter((c) => Math.abs(c.y - top) <= 1).length,
    card: cards[0],
    inlineCards: [...root.querySelectorAll("[part=panel] .cd")].filter((c) => c.getClientRects().length).length,
    compact: [...root.querySelectorAll("[part=panel] .cl")].map((c) => ({
      text: c.textContent,
      visible: c.getClientRects().length > 0,
      expanded: c.getAttribute("aria-expanded"),
    })),
  };
}

const overlayShown = (w) => w.eval((root) => {
  const ov = root?.querySelector(".ov");
  if (!ov) return false;
  const cs = getComputedStyle(ov);
  return cs.visibility === "visible" && cs.opacity === "1" && ov.getAnimations().every((a) => a.playState !== "running");
});
const overlayHidden = (w) => w.eval((root) => getComputedStyle(root.querySelector(".ov")).visibility === "hidden");

/** Points spread over a box (inset so they stay inside it). */
const pointsIn = (b) => [
  [b.x + 10, b.y + 10], [b.x + b.w / 2, b.y + b.h / 2], [b.r - 10, b.b - 10], [b.x + b.w / 4, b.b - 20], [b.r - 20, b.y + b.h / 3],
];

async function openChat(t, ctxOpts, snippet = s.ks.snippet("demo"), path = "/") {
  const { page, seen, w } = await s.visit(t, ctxOpts, { path, title: "Overlay", snippet });
  await w.open();
  return { page, w, seen, widget: page.locator("keepstar-widget") };
}

test("1280×800: products open in an overlay left of the panel; Details, Back, Esc, focus, close, resize", { timeout: 120000 }, async (t) => {
  const { page, w, seen, widget } = await openChat(t, WIDE);
  const overlay = widget.locator(".ov");

  await w.send("tents under $300");
  await w.reply(1, "a reply with a compact line", (row) => !!row.querySelector(".cl"));
  await until("the overlay to open by itself", () => overlayShown(w), 10000);
  await until("the cards' images", () => w.eval((root) => [...root.querySelectorAll(".ov .cd img")].slice(0, 3).every((i) => i.complete)));
  const l = await w.eval(layout);
  t.diagnostic(`layout: ${JSON.stringify({ panel: l.panel, overlay: l.overlay, card: l.card, cards: l.cards, firstRow: l.firstRow })}`);

  // A dialog left of the panel, as tall as it, clear of the launcher, with the cards in a grid.
  assert.equal(l.role, "dialog");
  assert.ok(l.label, "the overlay has an accessible name");
  assert.ok(l.overlay.r <= l.panel.x, `the overlay (${l.overlay.x}–${l.overlay.r}) is left of the panel (${l.panel.x})`);
  assert.equal(l.panel.x - l.overlay.r, 16, "…16px from it");
  assert.ok(l.overlay.w >= 560, `the overlay is larger than the panel: ${l.overlay.w}px`);
  assert.ok(Math.abs(l.overlay.y - l.panel.y) <= 1 && Math.abs(l.overlay.b - l.panel.b) <= 1, "the overlay lines up with the panel");
  assert.ok(l.overlay.x >= 0, "the overlay is on screen");
  const clear = l.overlay.r <= l.launcher.x || l.overlay.b <= l.launcher.y;
  assert.ok(clear, "the overlay does not cover the launcher");
  assert.ok(l.cards >= 3, `at least 3 cards in the overlay, got ${l.cards}`);
  assert.ok(l.firstRow >= 3 && l.firstRow <= 4, `3–4 cards in a row, got ${l.firstRow}`);
  assert.ok(l.card.w >= 160, `a card is at least 160px wide: ${l.card.w}`);
  assert.equal(l.inlineCards, 0, "no cards inside the panel");
  assert.equal(l.compact.length, 1);
  assert.match(l.compact[0].text, /^\d+ products? · Show$/, "the message keeps a compact line");
  assert.equal(Number.parseInt(l.compact[0].text), l.cards, "the compact line counts the products");
  assert.equal(l.compact[0].visible, true);
  assert.equal(l.compact[0].expanded, "true");
  assert.equal(await focused(page), "composer", "the visitor who just sent keeps the composer");
  for (const { x, y, hit } of await hitTest(page, pointsIn(l.overlay))) assert.match(hit, /keepstar-widget/, `(${x},${y}) is on the overlay`);
  await shot(t, page, "08-overlay-cards-1280");

  // Details inside the overlay: the detail view in the overlay with Back, a bigger gallery.
  const first = await overlay.locator(".cd .ti").first().innerText();
  await overlay.locator(".cd").first().getByRole("button", { name: "Details" }).click();
  await overlay.locator(".dt table").waitFor({ timeout: 10000 });
  assert.equal(await overlay.locator(".dt .ti").innerText(), first, "the detail of the clicked product");
  const back = overlay.getByRole("button", { name: "Back" });
  assert.equal(await back.isVisible(), true, "a Back button in the overlay");
  assert.equal(await focused(page), "overlay:back", "focus on Back");
  const gallery = await overlay.locator(".gm .im").boundingBox();
  assert.ok(gallery.height >= 300, `a bigger gallery: ${gallery.height}px`);
  assert.equal(await widget.locator("[part=panel] .dt").count(), 0, "the detail is not in the panel");
  await shot(t, page, "08-overlay-detail-1280");
  await back.click();
  await until("the cards again", async () => (await overlay.locator(".cd").count()) === l.cards);

  // Esc closes the overlay (focus back to the compact line), then the panel (focus to the launcher).
  await overlay.locator(".cd").first().getByRole("button", { name: "Details" }).focus();
  await page.keyboard.press("Escape");
  await until("the overlay to close", () => overlayHidden(w));
  assert.equal(await w.isOpen(), true, "the first Esc leaves the panel open");
  assert.equal(await focused(page), "compact", "focus goes back to the compact line");
  await w.settle();
  for (const { x, y, hit } of await hitTest(page, pointsIn(l.overlay)))
    assert.doesNotMatch(hit, /keepstar-widget/, `(${x},${y}) hits the page once the overlay is closed: ${hit}`);
  assert.equal(await widget.locator("[part=panel] .cl").getAttribute("aria-expanded"), "false");
  await page.keyboard.press("Escape");
  await until("the panel to close", () => w.isClosed());
  assert.equal(await focused(page), "launcher", "the second Esc closes the panel, focus on the launcher");
  await w.settle();

  // Reopening the panel does not reopen the overlay; the compact line does (focus moves into it).
  await w.open();
  assert.equal(await overlayHidden(w), true, "the overlay stays closed when the panel reopens");
  const compact = widget.getByRole("button", { name: /products? · Show/ });
  await compact.click();
  await until("the overlay to open from the compact line", () => overlayShown(w));
  assert.equal(await focused(page), "overlay", "focus moves into the overlay");

  // The close button.
  await overlay.getByRole("button", { name: "Close", exact: true }).click();
  await until("the overlay to close with its button", () => overlayHidden(w));
  assert.equal(await focused(page), "compact");

  // A click on the page closes it; the panel stays.
  await compact.click();
  await until("the overlay again", () => overlayShown(w));
  await page.mouse.click(l.overlay.x - 10 > 0 ? l.overlay.x - 10 : 5, 40);
  await until("the overlay to close on a click outside", () => overlayHidden(w));
  assert.equal(await w.isOpen(), true, "a click on the page leaves the panel open");

  // Resize across 1024 px: the detail view moves inline and back, still the detail view.
  await compact.click();
  await until("the overlay again", () => overlayShown(w));
  await overlay.locator(".cd").nth(1).getByRole("button", { name: "Details" }).click();
  await overlay.locator(".dt table").waitFor({ timeout: 10000 });
  const second = await overlay.locator(".dt .ti").innerText();
  await page.setViewportSize({ width: 900, height: 800 });
  await until("the detail view inline in the panel", () =>
    w.eval((root) => !!root.querySelector("[part=panel] .dt")?.getClientRects().length && getComputedStyle(root.querySelector(".ov")).display === "none"),
  );
  assert.equal(await widget.locator("[part=panel] .dt .ti").innerText(), second, "the same detail, inline");
  assert.equal(await widget.locator("[part=panel] .cl").isVisible(), false, "no compact line on a narrow screen");
  assert.equal(await widget.locator("[part=panel]").getByRole("button", { name: "Back" }).isVisible(), true);
  await shot(t, page, "08-overlay-resized-900");
  await page.setViewportSize({ width: 1280, height: 800 });
  await until("the overlay back with the detail view", () => overlayShown(w));
  assert.equal(await overlay.locator(".dt .ti").innerText(), second, "the detail view survives the round trip");
  assert.equal(await widget.locator("[part=panel] .cl").isVisible(), true);
  await overlay.getByRole("button", { name: "Back" }).click();
  await until("the cards in the overlay", async () => (await overlay.locator(".cd").count()) === l.cards);

  // A newer formation replaces the one shown.
  await w.send("headlamps");
  await w.reply(2, "the headlamps with a compact line", (row) => !!row.querySelector(".cl"));
  await until("the overlay to show the headlamps", () =>
    w.eval((root) => [...root.querySelectorAll(".ov .cd .ti")].some((e) => /headlamp/i.test(e.textContent)) && ![...root.querySelectorAll(".ov .cd .ti")].includes(null)),
  );
  const lines = await w.eval(layout);
  assert.deepEqual(lines.compact.map((c) => c.expanded), ["false", "true"], "the newest compact line is the one shown");
  assert.equal(await overlay.locator(".cd .ti").filter({ hasText: first }).count(), 0, "the tents are no longer in the overlay");

  // Esc in the composer (where the visitor just typed) also closes the overlay first.
  assert.equal(await focused(page), "composer");
  await page.keyboard.press("Escape");
  await until("the overlay to close on Esc in the composer", () => overlayHidden(w));
  assert.equal(await w.isOpen(), true, "the panel stays open");
  assert.equal(await focused(page), "composer", "focus stays in the composer");

  // Closing the panel with the overlay open leaves nothing over the page.
  await widget.locator("[part=panel] .cl").last().click();
  await until("the overlay again", () => overlayShown(w));
  await widget.locator("[part=launcher]").click();
  await until("the panel to close", () => w.isClosed());
  await w.settle();
  assert.equal(await overlayHidden(w), true);
  for (const { x, y, hit } of await hitTest(page, [...pointsIn(l.overlay), ...pointsIn(l.panel)]))
    assert.doesNotMatch(hit, /keepstar-widget/, `(${x},${y}) hits the page with the chat closed: ${hit}`);

  // History: after a reload the compact lines are there, and nothing opens by itself.
  await page.reload();
  const w2 = new Widget(page);
  await w2.open();
  await until("the restored compact lines", async () => (await widget.locator("[part=panel] .cl").count()) === 2, 15000);
  await page.waitForTimeout(300);
  assert.equal(await overlayHidden(w2), true, "history does not open the overlay");
  await shot(t, page, "08-overlay-history-1280");
  assert.deepEqual(seen.errors, [], "no uncaught errors");
});

test("800×900: formations stay inline in the panel", { timeout: 60000 }, async (t) => {
  const { page, w } = await openChat(t, NARROW, undefined, "/narrow");
  await w.send("tents under $300");
  await w.reply(1, "cards inline", (row) => row.querySelectorAll(".cd").length >= 2 && [...row.querySelectorAll(".cd")].every((c) => c.getClientRects().length));
  const l = await w.eval(layout);
  assert.equal(l.cards, 0, "nothing in the overlay");
  assert.ok(l.inlineCards >= 2, `cards inside the panel: ${l.inlineCards}`);
  assert.ok(l.compact.every((c) => !c.visible), "no compact line");
  const boxes = await w.eval((root) => [...root.querySelectorAll("[part=panel] .cd")].slice(0, 2).map((c) => c.getBoundingClientRect().toJSON()));
  const panel = l.panel;
  for (const b of boxes) assert.ok(b.x >= panel.x && b.right <= panel.r, "each card is inside the panel");
  await shot(t, page, "08-inline-cards-800");
  for (const { x, y, hit } of await hitTest(page, [[100, 100], [300, 450], [200, 850]]))
    assert.doesNotMatch(hit, /keepstar-widget/, `(${x},${y}) hits the page: ${hit}`);
});

test("data-position=left, Russian, reduced motion: the overlay opens right of the panel", { timeout: 60000 }, async (t) => {
  const snippet = s.ks.snippet("demo-ru").replace("<script ", '<script data-position="left" ');
  const { page, w } = await openChat(t, { ...WIDE, reducedMotion: "reduce" }, snippet, "/left");
  await w.send("палатку до 15000 рублей");
  await w.reply(1, "a reply with a compact line", (row) => !!row.querySelector(".cl"));
  await until("the overlay to open", () => overlayShown(w), 10000);
  const l = await w.eval(layout);
  assert.equal(l.overlay.x - l.panel.r, 16, `the overlay (${l.overlay.x}) is right of the panel (${l.panel.r}), 16px from it`);
  assert.ok(l.overlay.r <= 1280, "on screen");
  assert.ok(l.overlay.r <= l.launcher.x || l.overlay.x >= l.launcher.r || l.overlay.b <= l.launcher.y, "clear of the launcher");
  assert.equal(l.transition, "0s", "no transition with prefers-reduced-motion");
  const n = l.cards;
  const word = n % 10 === 1 && n % 100 !== 11 ? "товар" : [2, 3, 4].includes(n % 10) && ![12, 13, 14].includes(n % 100) ? "товара" : "товаров";
  assert.equal(l.compact[0].text, `${n} ${word} · Показать`, "the compact line in Russian with the right plural");
  assert.equal(await page.locator("keepstar-widget .ov").getByRole("button", { name: "Закрыть", exact: true }).count(), 1);
  await shot(t, page, "08-overlay-left-ru-1280");
});
