// A phone (390×844, touch): the chat takes the whole screen with its composer in view; and the
// Russian tenant speaks Russian and shows roubles.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MOBILE, Widget, shot, until } from "../lib/browser.mjs";
import { hostContent } from "../lib/shop.mjs";
import { startStack } from "../lib/stack.mjs";

let s;
before(async () => {
  s = await startStack({ tenants: ["demo", "demo-ru"] });
});
after(() => s?.close());

/** The panel's and the composer's boxes, and what a tap on the composer would hit. */
function layout(root) {
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { x: Math.round(r.x), y: Math.round(r.y), w: Math.round(r.width), h: Math.round(r.height) };
  };
  const input = root.querySelector("[part=composer] textarea");
  const send = root.querySelector("[part=composer] button");
  const ib = input.getBoundingClientRect();
  const sb = send.getBoundingClientRect();
  const launcher = root.querySelector("[part=launcher]");
  return {
    panel: box(root.querySelector("[part=panel]")),
    input: box(input),
    inputHit: root.elementFromPoint(ib.x + ib.width / 2, ib.y + ib.height / 2) === input,
    sendHit: root.elementFromPoint(sb.x + sb.width / 2, sb.y + sb.height / 2)?.closest("button") === send,
    launcherShown: !!launcher && getComputedStyle(launcher).display !== "none",
    viewport: { w: innerWidth, h: innerHeight },
  };
}

test("on a phone the open chat is full screen with the composer in view", { timeout: 60000 }, async (t) => {
  // A long page, so that a swipe could scroll it.
  const tall = `<div class="filler" style="height:3000px">long content</div>`;
  const url = s.shop.page("/", { title: "Mobile", body: hostContent() + tall + s.ks.snippet("demo") });
  const ctx = await s.browser.newContext(MOBILE);
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  await page.goto(url);
  const w = new Widget(page);
  await shot(t, page, "06-closed-mobile");

  // The same swipe on the page itself scrolls it (so the check below can fail).
  const cdp = await ctx.newCDPSession(page);
  const swipe = async (x) => {
    const touch = (type, y) => cdp.send("Input.dispatchTouchEvent", { type, touchPoints: type === "touchEnd" ? [] : [{ x, y }] });
    await touch("touchStart", 400);
    for (let y = 380; y >= 100; y -= 20) await touch("touchMove", y);
    await touch("touchEnd");
  };
  await swipe(100);
  await until("the page to scroll under a swipe", () => page.evaluate(() => scrollY > 50));
  // Let the fling end (a tap during a fling only stops it), then go back to the top.
  let last = -1;
  await until("the fling to end", async () => {
    const y = await page.evaluate(() => scrollY);
    const still = y === last;
    last = y;
    return still;
  }, 5000, 100);
  await page.evaluate(() => scrollTo(0, 0));
  await until("the page back at the top", () => page.evaluate(() => scrollY === 0));

  await w.open({ tap: true });
  const l = await w.eval(layout.toString());
  assert.deepEqual(l.viewport, { w: 390, h: 844 });
  const { x, y, w: pw, h: ph } = l.panel;
  assert.ok(Math.abs(x) <= 1 && Math.abs(y) <= 1, `the panel starts at the top left corner: ${JSON.stringify(l.panel)}`);
  assert.ok(Math.abs(pw - 390) <= 1 && Math.abs(ph - 844) <= 1, `the panel covers the viewport: ${JSON.stringify(l.panel)}`);
  assert.ok(l.input.y >= 0 && l.input.y + l.input.h <= 844 && l.input.w >= 250, `the composer is on screen: ${JSON.stringify(l.input)}`);
  assert.ok(l.inputHit, "a tap on the composer reaches it");
  assert.ok(l.sendHit, "a tap on Send reaches it");
  assert.equal(l.launcherShown, false, "the launcher hides while the chat is full screen");

  await w.input.tap();
  await w.input.fill("tents under $300");
  await page.locator("keepstar-widget [part=composer]").getByRole("button", { name: "Send" }).tap();
  await w.reply(1, "the cards", (row) => row.querySelectorAll(".cd").length >= 2);
  const cards = await w.eval((root) => [...root.querySelectorAll(".cd")].slice(0, 2).map((c) => c.getBoundingClientRect().width));
  assert.ok(cards.every((cw) => cw >= 150 && cw <= 200), `cards keep their size on a phone: ${cards}`);
  await shot(t, page, "06-open-mobile");

  // A swipe on the full-screen chat does not scroll the page behind it.
  await swipe(100);
  await page.waitForTimeout(300); // a scroll would have started by now (the control above takes ~50 ms)
  assert.equal(await page.evaluate(() => scrollY), 0, "the page behind the chat did not scroll");

  // Closing gives the page back, with the launcher.
  await page.locator("keepstar-widget [part=header]").getByRole("button", { name: "Close chat" }).tap();
  await until("the panel to close", () => w.isClosed());
  await w.launcher.waitFor({ state: "visible" });
});

test("the Russian tenant on a phone: Russian UI and prices in roubles", { timeout: 60000 }, async (t) => {
  const url = s.shop.page("/ru", { title: "Магазин", lang: "ru", body: hostContent("Добро пожаловать") + s.ks.snippet("demo-ru") });
  // The browser is English: the tenant's locale decides the language of the chat.
  const ctx = await s.browser.newContext(MOBILE);
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  await page.goto(url);
  const w = new Widget(page);
  const widget = page.locator("keepstar-widget");

  await widget.getByRole("button", { name: "Открыть чат", exact: true }).waitFor({ state: "visible" });
  await w.open({ tap: true });
  const dialog = widget.getByRole("dialog");
  assert.equal(await dialog.getAttribute("lang"), "ru");
  assert.equal(await dialog.getAttribute("aria-label"), "Тропа и кофе");
  assert.equal(await w.input.getAttribute("placeholder"), "Напишите сообщение…");
  assert.equal(await dialog.getByRole("textbox", { name: "Сообщение" }).count(), 1);
  assert.equal(await dialog.getByRole("button", { name: "Отправить" }).count(), 1);
  assert.equal(await dialog.getByRole("button", { name: "Закрыть чат" }).count(), 1);

  await w.input.tap();
  await w.input.fill("палатку до 15000 рублей");
  await dialog.getByRole("button", { name: "Отправить" }).tap();
  await w.reply(1, "the cards in roubles", (row) => row.querySelectorAll(".cd").length >= 1);
  const prices = await w.cards.locator(".pr b").allInnerTexts();
  assert.ok(prices.length >= 1, "at least one card");
  for (const p of prices) {
    assert.match(p, /₽$/, `a price in roubles: ${JSON.stringify(p)}`);
    const n = Number(p.replace(/[^\d]/g, ""));
    assert.ok(n > 0 && n <= 15000, `a tent up to 15 000 ₽: ${p}`);
  }
  assert.equal(await w.cards.first().getByRole("button", { name: "Подробнее" }).count(), 1, 'the card action is "Подробнее"');
  assert.doesNotMatch(await dialog.innerText(), /\b(Details|Send|Open chat|Talk to a human)\b/, "no English left in the UI");
  await shot(t, page, "06-russian-mobile");
});
