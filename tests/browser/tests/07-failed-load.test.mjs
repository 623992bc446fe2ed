// When the chat cannot load, the page must stay fully usable: no invisible layer over it, only
// the launcher (in its error state) or nothing at all.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DESKTOP, MOBILE, Widget, hitTest, shot, until } from "../lib/browser.mjs";
import { freePort } from "../lib/keepstar.mjs";
import { hostContent } from "../lib/shop.mjs";
import { startStack } from "../lib/stack.mjs";

let s;
before(async () => {
  s = await startStack({ tenants: ["demo"] });
});
after(() => s?.close());

/** Points spread over the page, including where the panel would be; none on the launcher. */
function points({ width, height }) {
  const pts = [];
  for (const fx of [0.05, 0.3, 0.5, 0.7, 0.8, 0.95])
    for (const fy of [0.05, 0.3, 0.5, 0.7, 0.85]) pts.push([Math.round(width * fx), Math.round(height * fy)]);
  // Just left of and above the launcher (56px, 20px from the corner).
  pts.push([width - 90, height - 48], [width - 48, height - 90]);
  return pts;
}

/** Asserts every point hits the host page, not the widget. */
async function assertNoLayer(page, viewport, when) {
  const hits = await hitTest(page, points(viewport));
  const bad = hits.filter((h) => /keepstar-widget/.test(h.hit));
  assert.deepEqual(bad, [], `${when}: every point hits the page, none the widget`);
  // The page's own controls still take clicks.
  await page.locator(".card .button").click({ timeout: 3000 });
  assert.equal(await page.evaluate(() => window.__hostClicks), 1, `${when}: a host button under the widget's area still takes a click`);
  await page.evaluate(() => (window.__hostClicks = 0));
}

const countClicks = () => {
  window.__hostClicks = 0;
  document.addEventListener("click", (e) => {
    if (e.target.closest?.(".button")) window.__hostClicks++;
  });
};

/** A page that embeds the widget; `route` lets the test break the chat bundle's request. */
async function openPage(t, path, { mobile = false, route } = {}) {
  const ctx = await s.browser.newContext(mobile ? MOBILE : DESKTOP);
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  await page.addInitScript(countClicks);
  if (route) await page.route((u) => /\/widget\/chat\.[0-9a-f]+\.js$/.test(u.pathname), route);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(s.shop.origin + path);
  await page.evaluate(() => {
    window.__ksEvents = [];
    window.Keepstar?.on("error", (e) => window.__ksEvents.push(e));
  });
  return { page, errors, viewport: page.viewportSize() };
}

for (const [label, route] of [
  ["a 404 for the chat bundle", (r) => r.fulfill({ status: 404, contentType: "text/plain", body: "not found" })],
  ["a network error for the chat bundle", (r) => r.abort("connectionrefused")],
]) {
  for (const mobile of [false, true]) {
    const device = mobile ? "mobile" : "desktop";
    test(`${label} (${device}): the launcher stays, in its error state, and nothing covers the page`, { timeout: 60000 }, async (t) => {
      const path = `/broken-${label.split(" ")[1]}-${device}`;
      s.shop.page(path, { title: "Broken chat", body: hostContent() + s.ks.snippet("demo") });
      const { page, errors, viewport } = await openPage(t, path, { mobile, route });
      const w = new Widget(page);

      await w.launcher.waitFor({ state: "visible" });
      if (mobile) await w.launcher.tap();
      else await w.launcher.click();
      // The loader reports the failure and labels the launcher.
      await until("the load_failed error", () => page.evaluate(() => window.__ksEvents.some((e) => e.code === "load_failed")));
      const name = await w.launcher.getAttribute("aria-label");
      assert.equal(name, "Chat is unavailable. Try again", "the launcher says the chat is unavailable");
      assert.equal(await w.panel.count(), 0, "no panel was left behind");
      await assertNoLayer(page, viewport, `after the failed load (${label}, ${device})`);
      // The launcher itself still takes clicks.
      const lb = await w.launcher.boundingBox();
      const [hit] = await hitTest(page, [[lb.x + lb.width / 2, lb.y + lb.height / 2]]);
      assert.match(hit.hit, /keepstar-widget\(launcher\)/);
      assert.equal(await page.locator("script[src*='/widget/chat.']").count(), 0, "the failed script element is removed");
      await shot(t, page, `07-failed-load-${label.split(" ")[1]}-${device}`);
      assert.deepEqual(errors, []);
    });
  }
}

test("keepstar down: the snippet's widget.js cannot load, the page is untouched", { timeout: 60000 }, async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}`; // nothing listens here
  const tag = s.ks.snippet("demo").replace(s.ks.url, dead);
  s.shop.page("/down", { title: "Down", body: hostContent() + tag });
  const { page, viewport } = await openPage(t, "/down");
  await page.waitForLoadState("load");
  assert.equal(await page.locator("keepstar-widget").count(), 0, "no widget element at all");
  assert.equal(await page.evaluate(() => typeof window.Keepstar), "undefined");
  await assertNoLayer(page, viewport, "keepstar down");
  await shot(t, page, "07-server-down-desktop");
});

test(
  "after a failed load, clicking the launcher again loads the chat and opens it",
  { timeout: 60000 },
  async (t) => {
    s.shop.page("/retry", { title: "Retry", body: hostContent() + s.ks.snippet("demo") });
    let broken = true;
    const { page } = await openPage(t, "/retry", {
      route: (r) => (broken ? r.fulfill({ status: 503, contentType: "text/plain", body: "unavailable" }) : r.continue()),
    });
    const w = new Widget(page);
    await w.launcher.click();
    await until("the load_failed error", () => page.evaluate(() => window.__ksEvents.some((e) => e.code === "load_failed")));
    assert.equal(await w.launcher.getAttribute("aria-label"), "Chat is unavailable. Try again");

    // The server is back: "Try again" means one click opens the chat.
    broken = false;
    await w.launcher.click();
    await w.panel.waitFor({ state: "attached", timeout: 10000 }); // the chat bundle has run
    await until("the chat to open after one retry click", () => w.isOpen(), 3000).catch(async (e) => {
      await shot(t, page, "07-retry-did-not-open-desktop");
      throw e;
    });
    assert.equal(await w.launcher.getAttribute("aria-label"), "Close chat");
    await w.send("headlamps");
    await w.reply(1, "a reply after the retry", (row) => row.getRootNode().querySelectorAll(".cd").length >= 1);
    await shot(t, page, "07-retry-opened-desktop");
  },
);
