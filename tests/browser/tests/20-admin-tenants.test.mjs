// The admin's tenant pages in a real browser: sign in through a one-time link, create a tenant,
// change its colour and see the real widget's launcher take it (as it is typed, and after the
// save reloads the page), the snippet's copy button, and no CSP violation on any of these pages.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DESKTOP, MOBILE, Widget, launch, shot, until, watch } from "../lib/browser.mjs";
import { Keepstar } from "../lib/keepstar.mjs";

const OWNER = "owner@demo.keepstar.invalid"; // serve --demo's owner

let ks, browser;
before(async () => {
  [ks, browser] = await Promise.all([Keepstar.start({ tenants: [] }), launch()]);
});
after(() => Promise.allSettled([browser?.close(), ks?.dispose()]));

/** The launcher's background colour, as the visitor sees it. */
const launcherColor = (w) =>
  w.eval((root) => {
    const l = root?.querySelector("[part=launcher]");
    return l ? getComputedStyle(l).backgroundColor : null;
  });

/** Fails on any CSP violation or console error the page has reported so far. */
async function clean(seen, where) {
  const violations = await seen.violations();
  assert.deepEqual(violations, [], `no CSP violation on ${where}`);
  assert.deepEqual(seen.csp, [], `no CSP message in the console on ${where}`);
  assert.deepEqual(seen.errors, [], `no uncaught error on ${where}`);
  assert.deepEqual(seen.console.filter((m) => m.startsWith("error")), [], `no console error on ${where}`);
}

async function signIn(page) {
  const link = (await ks.cli("admin", "link", OWNER)).trim();
  await page.goto(link);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${ks.url}/admin`);
}

test("create a tenant, recolour it and see the real widget's launcher change, without a CSP violation", { timeout: 90000 }, async (t) => {
  const ctx = await browser.newContext(DESKTOP);
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  const seen = await watch(page);
  await signIn(page);
  await clean(seen, "the overview");

  await page.getByRole("link", { name: "Tenants" }).click();
  await page.waitForURL(`${ks.url}/admin/tenants`);
  await clean(seen, "the tenant list");
  await page.getByLabel("Slug").fill("trail");
  await page.getByLabel("Name").fill("Trail Co");
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(`${ks.url}/admin/tenants/trail`);
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Trail Co");

  // The preview is the real widget, with the default colour until one is set.
  const w = new Widget(page);
  await w.launcher.waitFor({ state: "visible" });
  await until("the default colour", async () => (await launcherColor(w)) === "rgb(37, 99, 235)");

  // As the colour is typed (tenant.js sets --keepstar-color through the CSSOM).
  const color = page.getByLabel("Brand colour");
  await color.fill("#1f6f5c");
  await until("the typed colour on the launcher", async () => (await launcherColor(w)) === "rgb(31, 111, 92)");

  // Saved: the page reloads and the widget's own session brings the stored colour.
  await color.fill("#b42318");
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(`${ks.url}/admin/tenants/trail?saved`);
  assert.equal(await page.getByRole("status").innerText(), "Saved.");
  await until("the saved colour on the launcher", async () => (await launcherColor(w)) === "rgb(180, 35, 24)", 15000);
  const custom = await page.evaluate(() => document.documentElement.style.getPropertyValue("--keepstar-color"));
  assert.equal(custom, "", "the colour came from the tenant's settings, not the script");
  await w.open();
  const header = await w.eval((root) => getComputedStyle(root.querySelector("[part=header]")).backgroundColor);
  assert.equal(header, "rgb(180, 35, 24)", "the panel's header too");
  await shot(t, page, "admin-tenant-preview");
  await clean(seen, "the tenant page with the preview");

  // A bad colour comes back beside its field, described for screen readers.
  await page.keyboard.press("Escape");
  await color.fill("red");
  await page.getByRole("button", { name: "Save" }).click();
  const invalid = page.getByLabel("Brand colour");
  assert.equal(await invalid.getAttribute("aria-invalid"), "true");
  assert.equal(await invalid.inputValue(), "red", "the input kept");
  assert.match(await page.locator("#e-color").innerText(), /#rgb or #rrggbb/);
  // Chromium logs the page's own 422 as a failed load; that status is the point here.
  seen.console = seen.console.filter((m) => !/status of 422/.test(m));
  await clean(seen, "the re-rendered form");

  await page.getByRole("link", { name: "Keys and snippet" }).first().click();
  await page.waitForURL(`${ks.url}/admin/tenants/trail/keys`);
  const snippet = await page.locator("#snippet").inputValue();
  assert.match(snippet, /^<script async src="http:\/\/127\.0\.0\.1:\d+\/widget\.js\?v=\w+" data-tenant="trail" data-key="pk_\w+"><\/script>$/);
  assert.equal(await page.locator("#snippet").getAttribute("readonly"), "");
  await page.locator("#snippet").focus();
  await clean(seen, "the keys page");
});

test("the tenant page is usable on a phone", { timeout: 60000 }, async (t) => {
  const ctx = await browser.newContext(MOBILE);
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  const seen = await watch(page);
  await signIn(page);
  await page.goto(`${ks.url}/admin/tenants/trail`);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(wide, "no sideways scrolling");
  const box = await page.getByLabel("Brand colour").boundingBox();
  assert.ok(box.width > 250, `a full-width field (${box.width}px)`);
  await shot(t, page, "admin-tenant-phone");
  await clean(seen, "the tenant page on a phone");
});
