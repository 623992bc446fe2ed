// One test file's world: a keepstar server, a shop on another origin that embeds it, a Chromium.

import { Widget, launch, watch } from "./browser.mjs";
import { Keepstar } from "./keepstar.mjs";
import { Shop, hostContent } from "./shop.mjs";

export async function startStack({ tenants = ["demo", "demo-ru"] } = {}) {
  const shop = await Shop.start();
  const [ks, browser] = await Promise.all([Keepstar.start({ hostOrigins: [shop.origin], tenants }), launch()]);
  return {
    shop,
    ks,
    browser,
    /**
     * Opens, in a new browser context closed after test `t`, the shop page at `path` that embeds
     * `snippet`, watched from before its first script (see `watch`).
     */
    async visit(t, ctxOpts, { path = "/", title, snippet = ks.snippet("demo") } = {}) {
      const url = shop.page(path, { title, body: hostContent() + snippet });
      const ctx = await browser.newContext(ctxOpts);
      t.after(() => ctx.close());
      const page = await ctx.newPage();
      const seen = await watch(page);
      await page.goto(url);
      return { page, seen, w: new Widget(page) };
    },
    async close() {
      await Promise.allSettled([browser.close(), shop.close(), ks.dispose()]);
    },
  };
}
