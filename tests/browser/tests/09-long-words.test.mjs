// Words longer than any box — a product's 3 000-letter description, a model's reply, a visitor's
// message — wrap inside their bubble or formation: nothing runs past the panel or the overlay,
// on a desktop (formations in the overlay) and on a phone (formations inline).

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { DESKTOP, MOBILE, shot } from "../lib/browser.mjs";
import { freePort } from "../lib/keepstar.mjs";
import { startStack } from "../lib/stack.mjs";

/** One word of `length` letters: no space or hyphen to wrap at. */
const word = (stem, length = 3000) => stem.repeat(Math.ceil(length / stem.length)).slice(0, length);

/** A product as a model's formation would carry it, every text in it one long word. */
const item = (id) => ({
  id,
  title: word("Titleword"),
  subtitle: word("Subtitleword"),
  price: { amount: 19900, currency: "USD", display: word("Priceword") },
  compare_at: { amount: 24900, currency: "USD", display: word("Wasword") },
  rating: 4.5,
  badges: [word("Badgeword"), "New"],
  url: `https://shop.example/p/${id}`,
  description: word("Descriptionword"),
  availability: word("Availabilityword"),
  attributes: [
    { name: word("Attributeword"), value: word("Valueword") },
    { name: "Weight", value: "1.2 kg" },
  ],
  actions: [{ kind: "detail" }, { kind: "ask", text: word("Askword") }, { kind: "link", url: `https://shop.example/p/${id}` }],
});

const formation = (body) => ({ v: 1, fallback_text: "Products", ...body });

/** What the model (an n8n workflow here) answers to each visitor message. */
const REPLIES = {
  text: {
    output: `Here is ${word("Replyword")}, **${word("Boldword")}**, \`${word("Codeword")}\` and https://shop.example/${word("Urlword")}\n- ${word("Listword")}`,
  },
  grid: { output: "Cards", formation: formation({ kind: "cards", layout: "grid", title: word("Gridword"), items: [item("g1"), item("g2"), item("g3")] }) },
  list: { output: "A list", formation: formation({ kind: "cards", layout: "list", items: [item("l1"), item("l2")] }) },
  carousel: { output: "A carousel", formation: formation({ kind: "cards", layout: "carousel", items: [item("c1"), item("c2"), item("c3")] }) },
  comparison: {
    output: "Side by side",
    formation: formation({
      kind: "comparison",
      title: word("Compareword"),
      items: [item("x1"), item("x2")],
      rows: [
        { name: word("Rowword"), values: [word("Cellword"), "short"] },
        { name: "Weight", values: ["1.2 kg", "1.5 kg"] },
      ],
    }),
  },
  detail: { output: "Its details", formation: formation({ kind: "detail", item: item("d1") }) },
  options: {
    output: "Pick one",
    formation: formation({ kind: "quick_replies", options: [{ label: word("Optionword"), text: word("Optionword") }, { label: "Yes", text: "Yes" }] }),
  },
};

/** An n8n Chat Trigger stand-in: the reply named by the visitor's message (else the text one). */
async function startModel() {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const reply = REPLIES[JSON.parse(body).chatInput] || REPLIES.text;
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(reply));
    });
  });
  await new Promise((ok) => server.listen(port, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${port}/webhook/chat`, close: () => new Promise((ok) => server.close(ok)) };
}

let s;
let model;
before(async () => {
  s = await startStack({ tenants: ["demo"] });
  model = await startModel();
  // The catalog's own product, found by the builtin responder of the demo tenant.
  const catalog = join(s.ks.dir, "long-words.json");
  writeFileSync(
    catalog,
    JSON.stringify([
      {
        sku: "zzyzx-1",
        // (A catalog title has at most 300 characters.)
        title: `Zzyzx ${word("Catalogtitle", 290)}`,
        description: word("Catalogdescription"),
        price: 199,
        compare_at: 249,
        brand: word("Catalogbrand"),
        category: "Tents",
        rating: 4.5,
        [word("Catalogattribute")]: word("Catalogvalue"),
        Fabric: "Nylon",
      },
    ]),
  );
  await s.ks.cli("catalog", "import", "demo", catalog);
  await s.ks.addTenant("model", [s.shop.origin], ["--provider", "n8n", "--webhook-url", model.url]);
});
after(async () => {
  await s?.close();
  await model?.close();
});

/**
 * What runs past its box in the open panel and overlay: an element whose text (or, where it clips
 * its content, whose content) is wider than it, or whose box sticks out of the panel or overlay —
 * or, in a track that scrolls sideways by design (a carousel, a comparison table, a gallery
 * strip), is wider than that track. A one-line title cut off with an ellipsis stays in its box.
 * (A carousel's arrows stick out of their track on purpose: boxes, not their parents' content,
 * say whether that stays inside.)
 */
function overflowing(root) {
  const name = (el) => el.localName + [...el.classList].map((c) => "." + c).join("");
  const TRACKS = ".carousel .tr, .cx, .gt";
  const sideways = (el) => el.matches(TRACKS) && getComputedStyle(el).overflowX !== "visible";
  const ownText = (el) => [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.data.trim());
  const out = [];
  for (const frame of root.querySelectorAll("[part=panel], [part=overlay]")) {
    if (getComputedStyle(frame).visibility !== "visible") continue;
    const box = frame.getBoundingClientRect();
    for (const el of frame.querySelectorAll("*")) {
      if (!(el instanceof HTMLElement) || !el.getClientRects().length || el.closest(".sr")) continue;
      const cs = getComputedStyle(el);
      const ellipsis = cs.overflowX === "hidden" && cs.textOverflow === "ellipsis" && cs.whiteSpace === "nowrap";
      const measured = cs.display !== "inline" && !ellipsis && !sideways(el) && (ownText(el) || cs.overflowX !== "visible");
      if (measured && el.scrollWidth > el.clientWidth + 1) out.push(`${name(el)}: content ${el.scrollWidth} px wide in ${el.clientWidth} px`);
      const r = el.getBoundingClientRect();
      let track = el.parentElement?.closest(TRACKS);
      if (track && !sideways(track)) track = null;
      if (track && r.width > track.clientWidth + 1) out.push(`${name(el)}: ${Math.round(r.width)} px wide in a ${track.clientWidth} px track`);
      if (!track && (r.left < box.left - 1 || r.right > box.right + 1))
        out.push(`${name(el)}: ${Math.round(r.left)}–${Math.round(r.right)} px, outside ${name(frame)} ${Math.round(box.left)}–${Math.round(box.right)} px`);
    }
  }
  return out;
}

/** Sends `text`, waits for reply number `n` to satisfy `check`, and asserts that nothing overflows. */
async function exchange(t, { page, w }, n, text, check, label) {
  await w.send(text);
  await w.reply(n, label, check);
  await w.settle();
  const bad = await w.eval(overflowing);
  await shot(t, page, `09-${label.replace(/\W+/g, "-")}`);
  assert.deepEqual(bad, [], `${label}: nothing runs past its box`);
}

/** The reply's formation is there: inline, or in the overlay behind its compact line. */
const formed = (row) => !!row.querySelector(".fw > .fs, .fw > .cl");

for (const [device, opts] of [
  ["desktop", DESKTOP],
  ["mobile", MOBILE],
])
  test(`${device}: a visitor's and a model's long words wrap in bubbles, cards, comparison, detail and quick replies`, { timeout: 120000 }, async (t) => {
    const visit = await s.visit(t, opts, { path: `/model-${device}`, snippet: s.ks.snippet("model") });
    await visit.w.open();
    // The visitor's own long word, answered by a long reply with every kind of markup.
    const replied = (row) => row.querySelector(".b").textContent.includes("Replyword");
    await exchange(t, visit, 1, word("Visitorword"), replied, `${device} visitor and reply text`);
    let n = 1;
    for (const kind of ["grid", "list", "carousel", "comparison", "detail"]) await exchange(t, visit, ++n, kind, formed, `${device} ${kind}`);
    await exchange(t, visit, ++n, "options", (row) => !!row.querySelector(".qr .chip"), `${device} quick replies`);
    const words = await visit.w.eval((root) => root.textContent);
    for (const stem of ["Visitorword", "Boldword", "Urlword", "Titleword", "Subtitleword", "Priceword", "Badgeword", "Askword", "Rowword", "Cellword", "Descriptionword", "Optionword"])
      assert.ok(words.includes(stem), `${stem} is shown`);
    assert.deepEqual(visit.seen.errors, [], "no uncaught errors in the page");
  });

for (const [device, opts] of [
  ["desktop", DESKTOP],
  ["mobile", MOBILE],
])
  test(`${device}: a catalog's long words wrap in its card and detail view`, { timeout: 90000 }, async (t) => {
    const visit = await s.visit(t, opts, { path: `/catalog-${device}` });
    const { page, w } = visit;
    await w.open();
    await exchange(t, visit, 1, "zzyzx", formed, `${device} catalog card`);
    await page.locator("keepstar-widget").getByRole("button", { name: "Details" }).first().click();
    await page.locator("keepstar-widget .dt .ds").waitFor({ state: "visible", timeout: 10000 });
    await w.settle();
    await shot(t, page, `09-${device}-catalog-detail`);
    assert.deepEqual(await w.eval(overflowing), [], "catalog detail: nothing runs past its box");
    const detail = await w.eval((root) => root.querySelector(".dt").textContent);
    for (const stem of ["Catalogtitle", "Catalogdescription", "Catalogattribute", "Catalogvalue"]) assert.ok(detail.includes(stem), `${stem} is shown`);
  });
