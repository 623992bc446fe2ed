// Chromium (Debian's, through playwright-core) and helpers that look at the widget the way a
// visitor does: inside its open shadow root, through roles, computed styles and hit testing.

import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { until } from "./keepstar.mjs";

export { until };

const here = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = resolve(here, "../artifacts");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/** A fresh Chromium (playwright gives every launch its own temporary user-data dir). */
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export const DESKTOP = { viewport: { width: 1280, height: 720 }, locale: "en-US" };
/** A desktop narrower than 1024 px: formations render inline in the panel (no overlay). */
export const DESKTOP_INLINE = { viewport: { width: 1000, height: 720 }, locale: "en-US" };
export const MOBILE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: "en-US" };

/** Saves a screenshot under tests/browser/artifacts/ and reports its path as a test diagnostic. */
export async function shot(t, page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name + ".png");
  await page.screenshot({ path });
  t.diagnostic(`screenshot: ${path}`);
  return path;
}

/**
 * Records what goes wrong in a page: CSP violations (from an init script that listens before any
 * page script runs, and from the console), uncaught errors and console errors.
 */
export async function watch(page) {
  const seen = { console: [], errors: [], csp: [] };
  await page.addInitScript(() => {
    window.__violations = [];
    window.addEventListener(
      "securitypolicyviolation",
      (e) =>
        window.__violations.push({
          directive: e.violatedDirective,
          blocked: e.blockedURI,
          source: e.sourceFile,
          line: e.lineNumber,
          sample: e.sample,
        }),
      true,
    );
  });
  page.on("console", (m) => {
    const text = m.text();
    if (m.type() === "error" || m.type() === "warning") seen.console.push(`${m.type()}: ${text}`);
    if (/Content Security Policy|Refused to/i.test(text)) seen.csp.push(text);
  });
  page.on("pageerror", (e) => seen.errors.push(String(e)));
  seen.violations = () => page.evaluate(() => window.__violations || []);
  return seen;
}

/** The widget on a page, seen from outside (locators pierce its open shadow root). */
export class Widget {
  constructor(page) {
    this.page = page;
    this.host = page.locator("keepstar-widget");
    this.launcher = page.locator("keepstar-widget [part=launcher]");
    this.panel = page.locator("keepstar-widget [part=panel]");
    this.input = page.locator("keepstar-widget [part=composer] textarea");
    this.banner = page.locator("keepstar-widget [part=panel] .bn");
    this.live = page.locator("keepstar-widget [part=panel] [aria-live]");
    this.visitor = page.locator("keepstar-widget .m[data-role=visitor] .b");
    this.assistant = page.locator("keepstar-widget .m[data-role=assistant]");
    this.cards = page.locator("keepstar-widget .cd[part=card]");
  }

  /**
   * Runs `fn(root, arg)` in the page with the widget's shadow root. Sent as an expression (no
   * `new Function` in the page, which a strict CSP would rightly report).
   */
  eval(fn, arg) {
    return this.page.evaluate(`(${fn.toString()})(document.querySelector("keepstar-widget")?.shadowRoot, ${JSON.stringify(arg ?? null)})`);
  }

  /** Whether the panel is shown and its open transition has finished. */
  async isOpen() {
    return this.eval((root) => {
      const p = root?.querySelector("[part=panel]");
      if (!p) return false;
      const cs = getComputedStyle(p);
      return cs.visibility === "visible" && cs.opacity === "1" && p.getAnimations().every((a) => a.playState !== "running");
    });
  }

  async isClosed() {
    return this.eval((root) => {
      const p = root?.querySelector("[part=panel]");
      return !p || getComputedStyle(p).visibility === "hidden";
    });
  }

  /** Waits until no transition or animation is running in the widget (hover, open/close). */
  async settle() {
    await until("the widget's transitions to end", () =>
      this.eval((root) => !root || root.getAnimations().every((a) => a.playState !== "running" || a.effect?.getTiming().iterations === Infinity)),
    );
  }

  async open({ tap = false } = {}) {
    await this.launcher.waitFor({ state: "visible" });
    if (tap) await this.launcher.tap();
    else await this.launcher.click();
    await until("the chat panel to open", () => this.isOpen(), 15000);
  }

  /** Types `text` into the composer and presses Enter, as a visitor does. */
  async send(text) {
    await this.input.click();
    await this.input.fill(text);
    await this.input.press("Enter");
  }

  /** Texts of the visitor's bubbles, in order. */
  visitorTexts() {
    return this.visitor.allInnerTexts();
  }

  /**
   * Waits until there are `n` assistant messages and the last one satisfies `check(row)`
   * (evaluated in the page on the last assistant row element). It does not wait for the typing
   * indicator to go: see the typing-indicator test in 03-conversation.test.mjs.
   */
  async reply(n, what, check = (row) => !!row.innerText.trim(), ms = 20000) {
    const probe = `(root, n) => {
      const rows = root.querySelectorAll(".m[data-role=assistant]");
      if (rows.length !== n) return false;
      const last = rows[rows.length - 1];
      return (${check.toString()})(last) ? last.innerText : false;
    }`;
    return until(what, () => this.eval(probe, n), ms);
  }
}

/** Hit-tests `points` ([x, y]) of the page: what a click there would land on. */
export function hitTest(page, points) {
  return page.evaluate((points) => {
    const describe = (el) =>
      !el
        ? "nothing"
        : el.localName + (el.id ? "#" + el.id : "") + (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "");
    return points.map(([x, y]) => {
      const el = document.elementFromPoint(x, y);
      let d = describe(el);
      if (el?.localName === "keepstar-widget") {
        const inner = el.shadowRoot.elementFromPoint(x, y);
        const part = inner?.closest?.("[part]")?.getAttribute("part");
        d = `keepstar-widget(${part || inner?.localName || "?"})`;
      }
      return { x, y, hit: d };
    });
  }, points);
}
