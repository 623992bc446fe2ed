// One test file's world: a keepstar server, a shop on another origin that embeds it, a Chromium.

import { launch } from "./browser.mjs";
import { Keepstar } from "./keepstar.mjs";
import { Shop } from "./shop.mjs";

export async function startStack({ tenants = ["demo", "demo-ru"] } = {}) {
  const shop = await Shop.start();
  const [ks, browser] = await Promise.all([Keepstar.start({ hostOrigins: [shop.origin], tenants }), launch()]);
  return {
    shop,
    ks,
    browser,
    async close() {
      await Promise.allSettled([browser.close(), shop.close(), ks.dispose()]);
    },
  };
}
