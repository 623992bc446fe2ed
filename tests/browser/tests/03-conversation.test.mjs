// A whole conversation as a visitor has it: products as cards, a product's details, an FAQ
// answer, and the conversation still there after a reload.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DESKTOP_INLINE as DESKTOP, Widget, shot, until } from "../lib/browser.mjs";
import { hostContent } from "../lib/shop.mjs";
import { startStack } from "../lib/stack.mjs";

let s;
before(async () => {
  s = await startStack({ tenants: ["demo"] });
});
after(() => s?.close());

test("cards, details, FAQ, and the history after a reload", { timeout: 90000 }, async (t) => {
  const { page, seen, w } = await s.visit(t, DESKTOP, { title: "Trail shop" });

  await w.open();
  await w.send("tents under $300");
  // The visitor's own message shows at once, then the reply: text first, then the cards under it.
  await until("the visitor's message", async () => (await w.visitorTexts()).includes("tents under $300"));
  const text = await w.reply(1, "a reply with product cards", (row) => row.querySelectorAll(".cd").length >= 2);
  assert.match(text, /products? that match/i, "the reply's text introduces the cards");
  const cards = await w.eval((root) => {
    const row = [...root.querySelectorAll(".m[data-role=assistant]")].pop();
    const body = row.querySelector(".b").getBoundingClientRect();
    return [...row.querySelectorAll(".cd")].map((c) => ({
      title: c.querySelector(".ti")?.textContent,
      price: c.querySelector(".pr b")?.textContent,
      details: [...c.querySelectorAll("button")].some((b) => b.textContent === "Details"),
      below: c.getBoundingClientRect().top >= body.bottom,
    }));
  });
  assert.ok(cards.length >= 2, `at least 2 cards, got ${cards.length}`);
  for (const c of cards) {
    assert.ok(c.title, "each card has a title");
    assert.match(c.price || "", /^\$\d/, `card "${c.title}" shows a price in dollars`);
    assert.ok(c.details, `card "${c.title}" has a Details button`);
    assert.ok(c.below, `card "${c.title}" is below the reply's text`);
  }
  const dollars = cards.map((c) => Number(c.price.replace(/[^\d.]/g, "")));
  assert.ok(dollars.every((d) => d <= 300), `every tent is under $300: ${dollars}`);
  await shot(t, page, "03-conversation-cards-desktop");

  // Details of the first card: the detail view replaces the cards in place.
  const first = w.cards.first();
  await first.getByRole("button", { name: "Details" }).click();
  const detail = page.locator("keepstar-widget .dt");
  await detail.waitFor({ state: "visible", timeout: 10000 });
  assert.equal(await detail.locator(".ti").innerText(), cards[0].title, "the detail view shows the clicked product");
  assert.match(await detail.locator(".pr b").innerText(), /^\$\d/);
  const rows = await detail.locator("table tr").evaluateAll((trs) =>
    trs.map((tr) => [tr.querySelector("th")?.textContent, tr.querySelector("td")?.textContent]),
  );
  assert.ok(rows.length >= 2, `an attribute table with rows, got ${JSON.stringify(rows)}`);
  for (const [k, v] of rows) assert.ok(k && v, `attribute row has a name and a value: ${k} = ${v}`);
  assert.ok(await page.locator("keepstar-widget").getByRole("button", { name: "Back" }).isVisible(), "a Back button");
  await shot(t, page, "03-conversation-detail-desktop");

  // Back returns to the cards.
  await page.locator("keepstar-widget").getByRole("button", { name: "Back" }).click();
  await until("the cards again", async () => (await w.cards.count()) === cards.length);

  // An FAQ question gets a text answer.
  await w.send("What is your return policy?");
  const faq = await w.reply(2, "the FAQ answer", (row) => /30 days/.test(row.innerText));
  assert.match(faq, /return/i);
  assert.deepEqual(await w.visitorTexts(), ["tents under $300", "What is your return policy?"]);
  await shot(t, page, "03-conversation-faq-desktop");

  // A reload restores the conversation (open the panel: both questions and both answers are there).
  await page.reload();
  const w2 = new Widget(page);
  await w2.open();
  await until("the restored history", async () => (await w2.visitorTexts()).length === 2 && (await w2.assistant.count()) === 2, 15000);
  assert.deepEqual(await w2.visitorTexts(), ["tents under $300", "What is your return policy?"], "each question once, in order");
  assert.ok((await w2.cards.count()) >= 2, "the cards are restored with the history");
  assert.match(await w2.assistant.last().innerText(), /30 days/);
  await shot(t, page, "03-conversation-reloaded-desktop");

  assert.deepEqual(seen.errors, [], "no uncaught errors in the page");
});

test(
  "the typing indicator goes away once the reply is complete, even if the POST answers late",
  { timeout: 60000 },
  async (t) => {
    const url = s.shop.page("/typing", { title: "Typing", body: hostContent() + s.ks.snippet("demo") });
    const ctx = await s.browser.newContext(DESKTOP);
    t.after(() => ctx.close());
    const page = await ctx.newPage();
    // Counts the widget's POST /messages whose answers the page has read.
    await page.addInitScript(() => {
      const orig = window.fetch;
      window.__posted = 0;
      window.fetch = async (...args) => {
        const res = await orig(...args);
        const [url, init] = args;
        if (init?.method === "POST" && String(url).endsWith("/api/v1/messages"))
          res.clone().json().then(() => setTimeout(() => window.__posted++));
        return res;
      };
    });
    await page.goto(url);
    const w = new Widget(page);
    await w.open();
    await w.send("headlamps");
    await w.reply(1, "the first reply", (row) => row.querySelectorAll(".cd").length >= 1);
    await until("no typing indicator after the first reply", async () => (await page.locator("keepstar-widget .ty").count()) === 0);

    // The second message's POST answer is held until its reply has arrived on the stream.
    let held = 0;
    await page.route(
      (u) => u.pathname === "/api/v1/messages",
      async (route) => {
        if (route.request().method() !== "POST") return route.continue();
        held++;
        const res = await route.fetch();
        // `done` is the stream's last event of a turn; the live region announces it.
        await until("the second reply's done on the stream", async () => /^New reply: You can return/.test(await w.live.textContent()));
        await route.fulfill({ response: res });
      },
    );
    await w.send("What is your return policy?");
    await until("the widget to read the POST's answer", () => page.evaluate(() => window.__posted === 2));
    assert.equal(held, 1);
    await until("the typing indicator to go", async () => (await page.locator("keepstar-widget .ty").count()) === 0, 2000).catch(async (e) => {
      await shot(t, page, "03-typing-indicator-stuck-desktop");
      throw e;
    });
  },
);
