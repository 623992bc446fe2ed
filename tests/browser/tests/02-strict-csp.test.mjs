// The host page's Content Security Policy is the one assets/widget/README.md documents for
// site owners (script-src, connect-src and img-src naming keepstar, nothing else), on top of
// `default-src 'none'` and `style-src 'self'`. The whole conversation must work under it and
// the browser must report no violation.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DESKTOP, Widget, shot, until, watch } from "../lib/browser.mjs";
import { hostContent } from "../lib/shop.mjs";
import { startStack } from "../lib/stack.mjs";

let s;
before(async () => {
  s = await startStack({ tenants: ["demo"] });
});
after(() => s?.close());

test("a full conversation under the documented strict CSP reports no violation", { timeout: 90000 }, async (t) => {
  const ks = s.ks.url;
  // README: "script-src <keepstar>; connect-src <keepstar>; img-src <keepstar> <image hosts>;
  // no style-src entry is needed". The demo catalog's images are on keepstar's own origin;
  // 'self' in img-src is the shop's own images (its favicon).
  const policy = `default-src 'none'; script-src ${ks}; connect-src ${ks}; img-src 'self' ${ks}; style-src 'self'`;
  s.shop.route("/shop.css", "body{font:16px/1.5 Georgia,serif;margin:0;padding:24px;background:#faf7f2}", { "Content-Type": "text/css" });
  const url = s.shop.page("/csp", {
    title: "Strict CSP shop",
    head: `<link rel="stylesheet" href="/shop.css">`,
    body: hostContent("A shop with a strict CSP") + s.ks.snippet("demo"),
    headers: { "Content-Security-Policy": policy },
  });

  const ctx = await s.browser.newContext(DESKTOP);
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  const seen = await watch(page);
  const res = await page.goto(url);
  assert.equal(res.headers()["content-security-policy"], policy, "the page is served with the policy");
  t.diagnostic(`policy: ${policy}`);

  // The policy is really enforced here: an inline script of the host's own is refused.
  const probe = await page.evaluate(() => {
    const el = document.createElement("script");
    el.textContent = "window.__inlineRan = true";
    document.head.appendChild(el);
    return window.__inlineRan === true;
  });
  assert.equal(probe, false, "the browser enforces the policy (inline script refused)");
  const isProbe = (v) => v.directive.startsWith("script-src") && v.blocked === "inline";
  await until("the probe's violation to be reported", async () => (await seen.violations()).some(isProbe));
  const probeConsole = seen.csp.filter((m) => /inline script/i.test(m)).length;
  assert.equal(probeConsole, 1, "the probe's violation is also in the console");

  const w = new Widget(page);
  await w.open();
  // Branding is applied through CSSOM (no style attributes): the header has the tenant's colour.
  const header = await w.eval((root) => getComputedStyle(root.querySelector("[part=header]")).backgroundColor);
  assert.equal(header, "rgb(31, 111, 92)", "the tenant's brand colour (#1f6f5c) reaches the header");

  await w.send("tents under $300");
  // On this 1280px desktop the cards open in the formation overlay (the message keeps a compact line).
  await w.reply(1, "the cards with their images", (row) => {
    const imgs = [...row.getRootNode().querySelectorAll(".ov .cd img")];
    return imgs.length >= 2 && imgs.slice(0, 2).every((i) => i.complete && i.naturalWidth > 0);
  });
  const prices = await w.cards.locator(".pr b").allInnerTexts();
  assert.ok(prices.length >= 2 && prices.every((p) => p.startsWith("$")), `prices: ${prices}`);

  await w.cards.first().getByRole("button", { name: "Details" }).click();
  await page.locator("keepstar-widget .dt table").waitFor({ timeout: 10000 });

  await w.send("What is your return policy?");
  await w.reply(2, "the FAQ answer", (row) => /warehouse\.$/.test(row.querySelector(".b").innerText.trim()));
  assert.deepEqual(await w.visitorTexts(), ["tents under $300", "What is your return policy?"]);
  await shot(t, page, "02-strict-csp-desktop");

  // Nothing the widget did was refused.
  const violations = (await seen.violations()).filter((v) => !isProbe(v));
  assert.deepEqual(violations, [], "no securitypolicyviolation events from the widget");
  assert.deepEqual(seen.csp.filter((m) => !/inline script/i.test(m)), [], "no CSP messages in the console");
  assert.deepEqual(seen.errors, [], "no uncaught errors");
});
