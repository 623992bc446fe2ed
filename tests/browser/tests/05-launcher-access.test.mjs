// The launcher and the panel for keyboard and screen-reader users: names, roles, focus, Esc,
// Enter / Shift+Enter, and the live region that announces a reply.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DESKTOP, Widget, hitTest, shot, until } from "../lib/browser.mjs";
import { hostContent } from "../lib/shop.mjs";
import { startStack } from "../lib/stack.mjs";

let s;
before(async () => {
  s = await startStack({ tenants: ["demo"] });
});
after(() => s?.close());

/** The focused element, looking into the widget's shadow root. */
const focused = (page) =>
  page.evaluate(() => {
    const a = document.activeElement;
    if (a?.localName !== "keepstar-widget") return a ? a.localName : null;
    const inner = a.shadowRoot.activeElement;
    return inner ? `widget:${inner.getAttribute("part") || inner.localName}` : "widget:?";
  });

test("launcher name, dialog role, Esc and focus, Enter and Shift+Enter, the live region", { timeout: 60000 }, async (t) => {
  const url = s.shop.page("/", { title: "Access", body: hostContent() + s.ks.snippet("demo") });
  const ctx = await s.browser.newContext(DESKTOP);
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  await page.goto(url);
  const w = new Widget(page);
  const widget = page.locator("keepstar-widget");

  // The launcher is a button named "Open chat" that says it opens a dialog.
  const launcher = widget.getByRole("button", { name: "Open chat", exact: true });
  await launcher.waitFor({ state: "visible" });
  assert.equal(await launcher.getAttribute("aria-haspopup"), "dialog");
  assert.equal(await launcher.getAttribute("aria-expanded"), "false");
  const box = await launcher.boundingBox();
  assert.deepEqual([box.width, box.height], [56, 56], "a 56px launcher");
  assert.equal(await widget.getByRole("dialog").count(), 0, "no dialog is exposed while closed");

  // Keyboard only: Tab to the launcher, Enter opens the dialog with focus in the composer.
  await page.locator("#hero").click(); // start from the page, not the address bar
  for (let i = 0; i < 30 && (await focused(page)) !== "widget:launcher"; i++) await page.keyboard.press("Tab");
  assert.equal(await focused(page), "widget:launcher", "the launcher is reachable with Tab");
  await page.keyboard.press("Enter");
  await until("the panel to open", () => w.isOpen());
  const dialog = widget.getByRole("dialog");
  assert.equal(await dialog.count(), 1, "the panel is a dialog");
  assert.equal(await dialog.getAttribute("aria-label"), "Trailhead & Brew", "the dialog is named after the shop");
  assert.equal(await focused(page), "widget:textarea", "focus moves into the composer");
  const input = dialog.getByRole("textbox", { name: "Message" });
  assert.equal(await input.count(), 1, 'the composer is a textbox named "Message"');
  assert.equal(await dialog.getByRole("button", { name: "Send" }).count(), 1);
  assert.equal(await dialog.getByRole("button", { name: "Close chat" }).count(), 1);
  assert.equal(await widget.locator("[part=launcher]").getAttribute("aria-expanded"), "true");

  // Shift+Enter is a newline, Enter sends.
  await page.keyboard.type("first line");
  await page.keyboard.press("Shift+Enter");
  await page.keyboard.type("second line");
  assert.equal(await input.inputValue(), "first line\nsecond line", "Shift+Enter adds a newline");
  assert.equal(await w.visitor.count(), 0, "Shift+Enter does not send");
  await page.keyboard.press("Enter");
  await until("the two-line message to show", async () => (await w.visitor.count()) === 1);
  assert.equal(await input.inputValue(), "", "Enter sends and empties the composer");
  const sent = await w.visitor.first().innerText();
  assert.match(sent, /first line\s*\n\s*second line/, `the newline is kept in the bubble: ${JSON.stringify(sent)}`);
  await w.reply(1, "a reply to the two-line message");

  // The finished reply is announced through a polite live region.
  await page.keyboard.type("What is your return policy?");
  await page.keyboard.press("Enter");
  const reply = await w.reply(2, "the FAQ answer", (row) => /warehouse\.$/.test(row.querySelector(".b").innerText.trim()));
  assert.equal(await w.live.getAttribute("aria-live"), "polite");
  await until("the live region to announce the reply", async () => /^New reply: You can return unused items/.test(await w.live.textContent()));
  assert.ok(reply.includes("30 days"));
  await shot(t, page, "05-keyboard-desktop");

  // The first reply's products opened the formation overlay: Esc closes it first, the panel stays.
  await input.focus();
  assert.equal(await w.eval((root) => root.querySelector(".ov").classList.contains("on")), true, "the products overlay is open");
  await page.keyboard.press("Escape");
  await until("the overlay to close", () => w.eval((root) => !root.querySelector(".ov").classList.contains("on")));
  assert.equal(await w.isOpen(), true, "the first Esc leaves the panel open");

  // Esc closes the dialog and gives focus back to the launcher, named "Open chat" again.
  await page.keyboard.press("Escape");
  await until("the panel to close", () => w.isClosed());
  assert.equal(await focused(page), "widget:launcher", "focus returns to the launcher");
  await launcher.waitFor({ state: "visible" });
  assert.equal(await launcher.getAttribute("aria-expanded"), "false");

  // A closed panel leaves no layer over the page: where it was, clicks reach the page.
  await w.settle();
  const hits = await hitTest(page, [[1100, 200], [1000, 400], [900, 600], [1240, 300]]);
  for (const { x, y, hit } of hits) assert.doesNotMatch(hit, /keepstar-widget/, `(${x},${y}) after closing hits the page: ${hit}`);
  assert.match((await hitTest(page, [[1232, 672]]))[0].hit, /keepstar-widget\(launcher\)/, "the launcher itself is still there");
  await shot(t, page, "05-closed-desktop");

  // Enter on the focused launcher opens it again; the conversation is still there.
  await page.keyboard.press("Enter");
  await until("the panel to reopen", () => w.isOpen());
  assert.equal(await w.visitor.count(), 2);
});
