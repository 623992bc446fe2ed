// A host page with aggressive global CSS must not change how the widget looks: every measured
// computed style and box inside the shadow root equals the one on a plain page.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DESKTOP_INLINE, Widget, hitTest, shot } from "../lib/browser.mjs";
import { hostContent } from "../lib/shop.mjs";
import { startStack } from "../lib/stack.mjs";

// What careless or hostile site CSS looks like: universal !important rules, a tiny root font,
// rules on the class names and tags a widget is likely to use, the widget's own element, and
// custom properties with short common names.
const HOSTILE_CSS = `
html { font-size: 10px !important; }
:root { --bg: #000; --fg: #ff0; --b: #f0f; --ob: #0f0; --z: 1; --ox: 300px; --oy: 300px; --mu: red; --sf: red; --bd: red; }
* {
  font: 30px/3 "Comic Sans MS", cursive !important;
  letter-spacing: 5px !important;
  word-spacing: 12px !important;
  text-transform: uppercase !important;
  text-align: right !important;
  text-shadow: 2px 2px 0 lime !important;
  color: red !important;
  box-sizing: content-box !important;
  white-space: pre !important;
  visibility: visible !important;
  opacity: 1 !important;
  transition: all 5s linear !important;
}
div { display: inline !important; padding: 20px !important; margin: 10px !important; border: 3px dashed blue !important; }
.message, .card, .panel, .launcher, .header, .messages, .composer, .chat, .widget, .bubble, .button, .input,
.p, .m, .b, .cd, .ls, .hd, .cp, .l, .ks, .tr, .ti, .pr, .bt, .dt, .sr, .bn, .open {
  display: block !important; position: static !important; width: 50px !important; height: 50px !important;
  background: yellow !important; float: left !important; overflow: visible !important;
}
button, input, textarea, select {
  font-size: 8px !important; width: 20px !important; height: 10px !important; padding: 30px !important;
  border-radius: 0 !important; background: purple !important; appearance: none !important;
}
img, svg { width: 500px !important; height: 2px !important; display: none !important; }
table, th, td { border: 5px solid red !important; font-size: 40px !important; }
p, ul, li { margin: 40px !important; }
a { color: green !important; text-decoration: line-through !important; }
[role], [part], [hidden] { display: block !important; }
keepstar-widget {
  display: block !important; position: fixed !important; inset: 0 !important; z-index: 2147483647 !important;
  background: rgba(255, 0, 0, .5) !important; filter: blur(3px) !important; transform: scale(.5) !important;
  font-size: 40px !important; pointer-events: auto !important;
}
body > * { outline: 2px solid orange !important; }
`;

// Elements of the widget a visitor sees, and the computed properties compared between pages.
const TARGETS = {
  launcher: "[part=launcher]",
  panel: "[part=panel]",
  header: "[part=header]",
  title: "[part=header] .tt",
  closeButton: "[part=header] button",
  messages: "[part=messages]",
  visitorBubble: ".m[data-role=visitor] .b",
  visitorText: ".m[data-role=visitor] .b p",
  assistantBubble: ".m[data-role=assistant] .b",
  composer: "[part=composer]",
  input: "[part=composer] textarea",
  sendButton: "[part=composer] button",
  cardTrack: ".m[data-role=assistant] .tr",
  card: ".cd[part=card]",
  cardImage: ".cd .im",
  cardTitle: ".cd .ti",
  cardPrice: ".cd .pr b",
  cardDetails: ".cd .bt",
};
const PROPS = [
  "display", "position", "box-sizing", "visibility", "opacity", "z-index", "float",
  "font-family", "font-size", "font-weight", "font-style", "line-height", "letter-spacing", "word-spacing",
  "text-transform", "text-align", "text-shadow", "white-space", "color", "background-color",
  "padding-top", "padding-left", "margin-top", "margin-left", "border-top-width", "border-top-style",
  "border-radius", "filter", "transform",
];

/** Computed styles and boxes of the widget's elements (run in the page). */
function measure(root, [targets, props]) {
  const out = {};
  for (const [name, sel] of Object.entries(targets)) {
    const el = root.querySelector(sel);
    if (!el) {
      out[name] = null;
      continue;
    }
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    const style = {};
    for (const p of props) style[p] = cs.getPropertyValue(p);
    out[name] = { style, box: [r.x, r.y, r.width, r.height].map((v) => Math.round(v)) };
  }
  const host = getComputedStyle(root.host);
  out.host = { style: { display: host.display, position: host.position, filter: host.filter, transform: host.transform } };
  return out;
}

let s;
before(async () => {
  s = await startStack({ tenants: ["demo"] });
});
after(() => s?.close());

/** Opens the chat on `path`, asks for tents, and measures the widget once the cards are there. */
async function scenario(t, path, name) {
  const ctx = await s.browser.newContext(DESKTOP_INLINE);
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  await page.goto(s.shop.origin + path);
  const w = new Widget(page);
  await w.open();
  await w.send("tents under $300");
  await w.reply(1, "the cards", (row) => row.querySelectorAll(".cd img").length >= 2 && [...row.querySelectorAll(".cd img")].slice(0, 2).every((i) => i.complete));
  // Hover/focus change colours (focus ring, hover states): measure a quiet panel.
  await page.mouse.move(5, 5);
  await w.eval((root) => root.activeElement?.blur());
  await w.settle();
  const m = await w.eval(measure.toString(), [TARGETS, PROPS]);
  const hits = await hitTest(page, [[100, 100], [400, 360], [300, 600], [20, 700]]);
  await shot(t, page, name);
  return { m, hits };
}

test("hostile host CSS changes nothing inside the widget", { timeout: 90000 }, async (t) => {
  s.shop.page("/plain", { title: "Plain", body: hostContent() + s.ks.snippet("demo") });
  s.shop.page("/hostile", { title: "Hostile", head: `<style>${HOSTILE_CSS}</style>`, body: hostContent() + s.ks.snippet("demo") });

  const plain = await scenario(t, "/plain", "01-plain-page-desktop");
  const hostile = await scenario(t, "/hostile", "01-hostile-css-desktop");

  // What the design asks for, on the hostile page.
  const h = hostile.m;
  for (const k of Object.keys(TARGETS)) assert.ok(h[k], `widget element "${k}" (${TARGETS[k]}) exists`);
  assert.equal(h.visitorText.style["font-size"], "15px", "message text is 15px");
  assert.equal(h.assistantBubble.style["font-size"], "15px", "assistant text is 15px");
  assert.equal(h.visitorText.style["letter-spacing"], "normal");
  assert.equal(h.visitorText.style["text-transform"], "none");
  assert.equal(h.visitorText.style["line-height"], "21.75px", "line height 1.45 of 15px");
  assert.doesNotMatch(h.visitorText.style["font-family"], /Comic Sans/i);
  assert.notEqual(h.assistantBubble.style.color, "rgb(255, 0, 0)", "text is not the host's red");
  assert.equal(h.input.style["font-size"], "16px", "the composer's input is 16px");
  assert.equal(h.input.style["letter-spacing"], "normal");
  assert.equal(h.panel.style.position, "fixed");
  assert.ok(Math.abs(h.panel.box[2] - 380) <= 1, `panel is 380px wide on desktop, got ${h.panel.box[2]}`);
  assert.ok(h.panel.box[3] >= 480 && h.panel.box[3] <= 640, `panel height within the design, got ${h.panel.box[3]}`);
  assert.deepEqual(h.launcher.box.slice(2), [56, 56], "launcher is a 56px circle");
  assert.deepEqual([1000 - h.launcher.box[0] - 56, 720 - h.launcher.box[1] - 56], [20, 20], "launcher 20px from the corner");
  assert.equal(h.host.style.display, "contents", "the host element takes part in no layout");
  // Cards side by side, each a sensible size, with square images.
  assert.match(h.cardTrack.style.display, /^(grid|flex)$/, "cards are laid out as a grid or carousel");
  const [cx, cy, cw, ch] = h.card.box;
  assert.ok(cw >= 150 && cw <= 200, `a card is 150-200px wide, got ${cw}`);
  assert.ok(ch >= 200, `a card is tall enough for image, title and price, got ${ch}`);
  assert.ok(Math.abs(h.cardImage.box[2] - h.cardImage.box[3]) <= 1, `card image is square: ${h.cardImage.box}`);
  assert.ok(h.cardImage.box[2] >= cw - 2, "card image spans the card");
  assert.ok(cx >= h.panel.box[0] && cx + cw <= h.panel.box[0] + 380 && cy > h.panel.box[1], "the card is inside the panel");

  // And everything equals the plain page.
  for (const k of [...Object.keys(TARGETS), "host"]) {
    const a = plain.m[k];
    const b = h[k];
    assert.deepEqual(b.style, a.style, `computed style of "${k}" is the same as on a plain page`);
    if (a.box) {
      const off = a.box.map((v, i) => Math.abs(v - b.box[i]));
      assert.ok(Math.max(...off) <= 1, `box of "${k}" is the same as on a plain page: ${a.box} vs ${b.box}`);
    }
  }

  // The page around the widget stays the page's: no layer over it.
  for (const { x, y, hit } of hostile.hits) assert.doesNotMatch(hit, /keepstar-widget/, `(${x},${y}) hits host content, not the widget: ${hit}`);
});
