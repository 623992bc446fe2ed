// The admin's conversation pages in a real browser: sign in through a one-time link, find the
// conversation a visitor just had in the list, open its transcript with the product cards, and
// see the analytics and overview charts — with no CSP violation on any of these pages.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DESKTOP, MOBILE, shot, until, watch } from "../lib/browser.mjs";
import { startStack } from "../lib/stack.mjs";

let s;
before(async () => {
  s = await startStack({ tenants: ["demo"] });
});
after(() => s?.close());

test("a transcript shows the cards the visitor saw, with no CSP violation", { timeout: 90000 }, async (t) => {
  // A visitor asks for tents and gets cards.
  const { w } = await s.visit(t, DESKTOP);
  await w.open();
  await w.send("tents under $300");
  await until("the cards", async () => (await w.cards.count()) > 0, 15000);

  await s.ks.cli("admin", "add", "anna@shop.example", "--role", "owner");

  for (const [name, opts] of [["desktop", DESKTOP], ["phone", MOBILE]]) {
    const ctx = await s.browser.newContext(opts);
    t.after(() => ctx.close());
    const page = await ctx.newPage();
    const seen = await watch(page);
    // A one-time link each: the first is used up by the first sign-in.
    const link = (await s.ks.cli("admin", "link", "anna@shop.example")).match(/https?:\/\/\S+/)[0];
    await page.goto(link);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/admin$/);
    // The overview's charts are inline SVG.
    assert.ok((await page.locator("figure.chart svg").count()) >= 3, "the overview's charts");

    await page.getByRole("link", { name: "Conversations" }).first().click();
    await page.waitForURL(/\/admin\/conversations$/);
    await page.getByLabel("Search messages").fill("tents");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL(/q=tents/);
    const rows = page.locator("table.list tbody tr");
    assert.equal(await rows.count(), 1, "the visitor's conversation is found");
    await rows.first().locator("a").first().click();
    await page.waitForURL(/\/admin\/conversations\/c_/);

    const cards = page.locator(".formation.cards .card");
    assert.ok((await cards.count()) > 0, "the cards are drawn");
    const first = cards.first();
    assert.match(await first.locator(".ctitle").innerText(), /\S/, "a card has its title");
    assert.match(await first.locator(".price").innerText(), /\$\d/, "and its price");
    assert.match(await page.locator(".said.assistant .metrics").first().innerText(), /first token \d+ ms/);
    await page.locator("#inbox-actions").waitFor({ state: "attached" });
    await shot(t, page, `21-transcript-${name}`);

    await page.getByRole("link", { name: "Analytics" }).first().click();
    await page.getByRole("link", { name: "Trailhead & Brew" }).click();
    await page.waitForURL(/\/admin\/analytics\/demo$/);
    assert.match(await page.locator("#top-searches").innerText(), /tents under \$300/);

    assert.deepEqual(await seen.violations(), [], `no CSP violation (${name})`);
    assert.deepEqual(seen.csp, [], `no CSP message in the console (${name})`);
    assert.deepEqual(seen.errors, [], `no page error (${name})`);
  }
});
