// The admin's catalog page, as a site owner uses it: sign in through a one-time link
// (`keepstar admin link`), upload a catalog and watch the progress bar fill, see the dry run,
// import it and find the products in the list; a bad file shows the importer's per-line error
// and imports nothing. Under the admin's strict CSP nothing is refused, and the page fits a phone.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DESKTOP, MOBILE, launch, shot, until, watch } from "../lib/browser.mjs";
import { Keepstar } from "../lib/keepstar.mjs";

let ks;
let browser;
before(async () => {
  ks = await Keepstar.start({ tenants: ["demo"] });
  await ks.cli("admin", "add", "owner@shop.example", "--name", "Olive Owner");
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await ks?.dispose();
});

/** A catalog of `n` products, big enough (about 1.5 MB) for the upload to report progress. */
function catalog(n) {
  const lines = ["sku,title,price,category,description"];
  const words = "durable light waterproof trail camp kettle mug stove pack ".repeat(60);
  for (let i = 1; i <= n; i++) lines.push(`UP-${String(i).padStart(4, "0")},Upload Test Lantern ${i},${10 + (i % 90)}.50,Lanterns,"${words}"`);
  return lines.join("\n") + "\n";
}

/** Signs in through a fresh one-time link; resolves when the overview shows. */
async function signIn(page) {
  const link = (await ks.cli("admin", "link", "owner@shop.example")).trim();
  assert.match(link, /\/admin\/link\//);
  await page.goto(link);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${ks.url}/admin`);
}

/** Records, across navigations, every CSP violation and every value the progress bar takes. */
async function record(page) {
  const seen = await watch(page);
  seen.progress = [];
  seen.refused = [];
  await page.exposeFunction("__ksProgress", (value, max) => seen.progress.push([value, max]));
  await page.exposeFunction("__ksRefused", (v) => seen.refused.push(v));
  await page.addInitScript(() => {
    window.addEventListener("securitypolicyviolation", (e) => window.__ksRefused(`${e.violatedDirective} ${e.blockedURI}`), true);
    new MutationObserver((records) => {
      for (const r of records) if (r.target instanceof HTMLProgressElement) window.__ksProgress(r.target.value, r.target.max);
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ["value", "max"] });
  });
  return seen;
}

test("an owner uploads a catalog with progress, sees the dry run, imports it; a bad file shows its line", { timeout: 120000 }, async (t) => {
  const ctx = await browser.newContext(DESKTOP);
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  const seen = await record(page);
  await signIn(page);

  await page.getByRole("link", { name: "Catalog" }).click();
  await page.locator('a[href="/admin/tenants/demo/catalog"]').click();
  await page.waitForURL(/\/admin\/tenants\/demo\/catalog$/);
  const bar = page.getByRole("progressbar", { name: "Upload progress" });
  assert.equal(await bar.isVisible(), false, "no bar before an upload");

  const file = Buffer.from(catalog(400));
  assert.ok(file.length > 1_000_000, `the file is ${file.length} B`);
  await page.getByLabel("Catalog file").setInputFiles({ name: "lanterns.csv", mimeType: "text/csv", buffer: file });
  await page.getByRole("button", { name: "Upload and check" }).click();
  await page.waitForURL(/\/catalog\/uploads\/[A-Za-z0-9]{32}$/);
  // The bar was shown and reached the whole file.
  const full = seen.progress.filter(([v, m]) => m >= file.length && v === m);
  assert.ok(full.length > 0, `the bar reached full: ${JSON.stringify(seen.progress.slice(-5))}`);
  await page.getByRole("heading", { name: "Check before importing" }).waitFor();
  const added = await page.locator("dl.summary div", { hasText: "Added" }).locator("dd").innerText();
  assert.equal(added, "400", "the dry run counts the products");
  await shot(t, page, "22-admin-catalog-preview");

  await page.getByRole("button", { name: "Import" }).click();
  await page.waitForURL(/\/admin\/tenants\/demo\/catalog\?added=400/);
  await page.getByRole("status").filter({ hasText: "Imported." }).waitFor();
  await page.getByLabel("Search products").fill("upload test lantern");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/\?q=upload/);
  const titles = await page.locator("table.list tbody tr td:first-child").allInnerTexts();
  assert.ok(titles.length >= 10 && titles.every((x) => x.startsWith("Upload Test Lantern")), `the products: ${titles.slice(0, 3)}`);
  await shot(t, page, "22-admin-catalog-list");

  // A bad file: the line and its sentence, the form to try again, nothing imported.
  await page.getByLabel("Catalog file").setInputFiles({
    name: "bad.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("sku,title,price\nUP-9001,Zebrawood Lamp,10\nUP-9002,,12\n"),
  });
  await page.getByRole("button", { name: "Upload and check" }).click();
  await page.getByRole("heading", { name: "Nothing can be imported" }).waitFor();
  const errors = await page.locator("ul.row-errors li").allInnerTexts();
  assert.deepEqual(errors, ["line 3: missing title"]);
  assert.equal(await page.getByRole("button", { name: "Import" }).count(), 0, "nothing to import");
  await shot(t, page, "22-admin-catalog-bad-file");
  await page.goto(`${ks.url}/admin/tenants/demo/catalog?q=zebrawood`);
  assert.equal(await page.locator("table.list tbody tr").count(), 0, "the bad file's good line was not imported");

  assert.deepEqual(seen.refused, [], "no securitypolicyviolation on any admin page");
  assert.deepEqual(seen.csp, [], "no CSP message in the console");
  assert.deepEqual(seen.errors, [], "no uncaught errors");
});

test("the catalog page fits a phone and its upload works there", { timeout: 60000 }, async (t) => {
  const ctx = await browser.newContext(MOBILE);
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  const seen = await record(page);
  await signIn(page);
  await page.goto(`${ks.url}/admin/tenants/demo/catalog`);
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(fits, "no sideways scrolling");
  await page.getByLabel("Catalog file").setInputFiles({ name: "one.jsonl", mimeType: "application/json", buffer: Buffer.from('{"sku":"PH-1","title":"Phone Lantern"}\n') });
  await page.getByRole("button", { name: "Upload and check" }).tap();
  await page.getByRole("heading", { name: "Check before importing" }).waitFor();
  await until("the summary", async () => (await page.locator("dl.summary").innerText()).includes("1"));
  await shot(t, page, "22-admin-catalog-mobile");
  assert.deepEqual(seen.refused, []);
  assert.deepEqual(seen.errors, []);
});
