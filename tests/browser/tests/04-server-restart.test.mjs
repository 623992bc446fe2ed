// The server goes away mid-conversation (SIGTERM, as a deploy does) and comes back on the same
// port and data dir: the widget says it is reconnecting, then carries on; nothing is duplicated.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DESKTOP_INLINE as DESKTOP, Widget, shot, until } from "../lib/browser.mjs";
import { startStack } from "../lib/stack.mjs";

let s;
before(async () => {
  s = await startStack({ tenants: ["demo"] });
});
after(() => s?.close());

test("a server restart mid-conversation: reconnecting banner, then the next message is answered once", { timeout: 90000 }, async (t) => {
  const { page, seen, w } = await s.visit(t, DESKTOP, { title: "Restart" });

  await w.open();
  await w.send("tents under $300");
  await w.reply(1, "the first reply", (row) => row.querySelectorAll(".cd").length >= 2);
  assert.equal(await w.banner.isVisible(), false, "no banner while connected");

  // SIGTERM: keepstar ends its open streams and exits.
  await s.ks.stop("SIGTERM");
  await w.banner.waitFor({ state: "visible", timeout: 15000 });
  assert.equal((await w.banner.innerText()).trim(), "Reconnecting…");
  assert.equal(await w.banner.getAttribute("role"), "status", "the banner is announced");

  // A message written while the server is down waits, marked as such.
  await w.send("headlamps");
  const queued = page.locator("keepstar-widget .m[data-role=visitor]").filter({ hasText: "headlamps" }).locator(".sx");
  await until("the offline message to be marked as waiting", async () => /Waiting to send|Sending…/.test(await queued.innerText()), 10000);
  await shot(t, page, "04-server-down-reconnecting-desktop");

  // Back on the same port and data dir: the waiting message goes out and is answered.
  const t0 = Date.now();
  await s.ks.serve();
  await w.reply(2, "the answer to the message sent while down", (row) => row.querySelectorAll(".cd").length >= 1, 30000);
  t.diagnostic(`the queued message was answered ${Date.now() - t0} ms after the restart began`);
  await w.send("What is your return policy?");
  await w.reply(3, "the answer after the restart", (row) => /warehouse\.$/.test(row.querySelector(".b").innerText.trim()), 30000);
  await w.banner.waitFor({ state: "hidden", timeout: 30000 });
  t.diagnostic(`answered and reconnected ${Date.now() - t0} ms after the restart began`);

  // Nothing twice: each visitor message once, each reply once, each set of cards once.
  // Give a late replay a moment to show up before counting.
  await page.waitForTimeout(500);
  const asked = ["tents under $300", "headlamps", "What is your return policy?"];
  assert.deepEqual(await w.visitorTexts(), asked, "each visitor message once, in order");
  assert.equal(await queued.isVisible(), false, "the waiting mark is gone");
  assert.equal(await w.assistant.count(), 3, "three replies");
  const cardRows = await w.eval((root) => [...root.querySelectorAll(".m")].filter((m) => m.querySelector(".cd")).length);
  assert.equal(cardRows, 2, "each set of cards is shown once");
  await shot(t, page, "04-after-restart-desktop");

  // The stored conversation agrees: a reload shows the same two exchanges.
  await page.reload();
  const w2 = new Widget(page);
  await w2.open();
  await until("the history after the restart", async () => (await w2.assistant.count()) === 3 && (await w2.visitor.count()) === 3, 15000);
  await page.waitForTimeout(300);
  assert.deepEqual(await w2.visitorTexts(), asked, "the stored conversation has each message once");
  assert.equal(await w2.assistant.count(), 3);
  assert.deepEqual(seen.errors, []);
});
