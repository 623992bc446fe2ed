// What a long streamed reply costs the shop's page. A fake OpenAI-compatible upstream streams a
// reply of 2, 16 and 100 KB in 4-character deltas through the real keepstar binary into the
// widget in Chromium. The benchmark measures the longest slice of work on the page's main thread
// while the reply streams in, from its first text shown (a trace: a task, or a microtask
// checkpoint, which a stream reader's loop can stretch over many chunks); the main thread's busy
// time from the visitor's Enter to the whole reply on screen, split into style and layout and the
// rest, script and DOM (CDP Performance.getMetrics); and the time from the upstream's last byte to
// the reply on screen. With --before, two widget builds are measured on the same server,
// alternating run by run. A benchmark, not a test: it prints Markdown tables on stdout and its
// progress on stderr.
//
//   node tests/browser/bench/stream-render.mjs [--sizes 2,16,100] [--runs 3] [--rate 1000]
//     [--before-ref REF | --before DIR] [--after DIR] [--cap 300]
//
// --rate: deltas per second from the upstream; --cap: seconds a run may take to show the reply.
// The widget files come from a dist directory (--after, default assets/widget/dist; --before a
// second one, or --before-ref the committed dist of a git revision), served in place of
// keepstar's own.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DESKTOP, Widget, launch } from "../lib/browser.mjs";
import { Keepstar, REPO, until } from "../lib/keepstar.mjs";
import { Shop, hostContent } from "../lib/shop.mjs";
import { FakeOpenAI } from "./fake-openai.mjs";

const { values: opt } = parseArgs({
  options: {
    sizes: { type: "string", default: "2,16,100" },
    runs: { type: "string", default: "3" },
    rate: { type: "string", default: "1000" },
    before: { type: "string" },
    "before-ref": { type: "string" },
    after: { type: "string", default: join(REPO, "assets/widget/dist") },
    cap: { type: "string", default: "300" },
  },
});
const log = (...a) => console.error("[bench]", ...a);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The committed widget build of a git revision, in a temporary directory. */
function distOf(ref) {
  const dir = mkdtempSync(join(tmpdir(), "keepstar-bench-dist-"));
  execFileSync("tar", ["-x", "-C", dir], { input: execFileSync("git", ["-C", REPO, "archive", ref, "assets/widget/dist"]) });
  return join(dir, "assets/widget/dist");
}

/** A reply as a model writes one, about `kb` KB long: paragraphs with markup, lists; then END. */
const END = "That is all.";
function reply(kb) {
  const blocks = [];
  for (let i = 0; blocks.join("\n\n").length < kb * 1024 - 200; i++)
    blocks.push(
      `Option ${i}: the **Alfheim ${i}** is *light*, packs to \`40 x 15 cm\`; see [its page](https://shop.example/p/${i}). It sleeps two, and the vestibule takes both packs with room to spare.`,
      `- **Weight:** 1.${i % 10} kg\n- *Season:* 3, with a second line\n  that continues the item`,
    );
  return blocks.join("\n\n") + "\n\n" + END;
}

const FIRST_TEXT = "keepstar-bench-first-text";

/**
 * The page's side, checked once a frame: a performance mark (in the trace) when the reply's first
 * text is shown, and the time its end is.
 */
function watchTheReply({ end, mark }) {
  window.__onScreenAt = 0;
  let started = false;
  const check = () => {
    const body = document.querySelector("keepstar-widget")?.shadowRoot?.querySelector(".m[data-role=assistant] .b");
    if (!started && body?.firstChild) started = !!performance.mark(mark);
    if (body?.lastElementChild?.textContent.endsWith(end)) window.__onScreenAt = Date.now();
    else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

/**
 * When the page showed the whole reply (watchTheReply), asked every 100 ms; 0 at `deadline`. A page
 * stuck in one long task cannot even answer, so each question ends at the deadline too.
 */
async function onScreen(page, deadline) {
  let timer;
  const late = new Promise((ok) => (timer = setTimeout(ok, deadline - Date.now(), 0)));
  try {
    for (;;) {
      const at = await Promise.race([page.evaluate(() => window.__onScreenAt), late]);
      if (at || Date.now() >= deadline) return at;
      await Promise.race([new Promise((ok) => setTimeout(ok, 100)), late]);
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The longest slice of work on a renderer's main thread in a Chromium trace, in ms, of those
 * still running when the reply's first text was shown (not the visitor's Enter before it).
 */
function longestTask(trace) {
  const events = JSON.parse(trace.toString()).traceEvents;
  const main = new Set(events.filter((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain").map((e) => `${e.pid}:${e.tid}`));
  const from = Math.min(...events.filter((e) => e.name === FIRST_TEXT).map((e) => e.ts));
  let longest = 0;
  for (const e of events) if (e.ph === "X" && main.has(`${e.pid}:${e.tid}`) && e.ts + e.dur >= from) longest = Math.max(longest, e.dur / 1000);
  return longest;
}

async function main() {
  const sizes = opt.sizes.split(",").map(Number);
  const runs = Number(opt.runs);
  const cap = Number(opt.cap) * 1000;
  const builds = [{ name: "after", dir: resolve(opt.after) }];
  const beforeDir = opt["before-ref"] ? distOf(opt["before-ref"]) : opt.before && resolve(opt.before);
  if (beforeDir) builds.unshift({ name: "before", dir: beforeDir });

  const upstream = await FakeOpenAI.start({ chars: 4, perSecond: Number(opt.rate) });
  const shop = await Shop.start();
  const ks = await Keepstar.start({ hostOrigins: [shop.origin], tenants: ["demo"] });
  await ks.cli("tenant", "set", "demo", "--provider", "openai", "--model", "m", "--base-url", upstream.url);
  const page = shop.page("/", { title: "Bench", body: hostContent() + ks.snippet("demo") });
  const load = [loadavg()[0]];

  /** One reply streamed into a fresh page (in a browser of its own) with `build` of the widget. */
  async function measure(build, text) {
    const browser = await launch();
    try {
      const ctx = await browser.newContext(DESKTOP);
      await ctx.route(
        (u) => u.origin === ks.url && (u.pathname === "/widget.js" || u.pathname.startsWith("/widget/")),
        (route) => {
          const path = new URL(route.request().url()).pathname;
          const file = path === "/widget.js" ? "widget.js" : path.slice("/widget/".length);
          route.fulfill({
            body: readFileSync(join(build.dir, file)),
            headers: { "Content-Type": "text/javascript; charset=utf-8", "Access-Control-Allow-Origin": "*", "Cache-Control": "no-store" },
          });
        },
      );
      const p = await ctx.newPage();
      await p.goto(page);
      const w = new Widget(p);
      await w.open();
      await w.input.fill("the long one");
      const cdp = await ctx.newCDPSession(p);
      await cdp.send("Performance.enable");
      /** Seconds the main thread has spent: in tasks, in style and layout. */
      const busy = async () => {
        const m = Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((x) => [x.name, x.value]));
        return { task: m.TaskDuration, layout: m.LayoutDuration + m.RecalcStyleDuration };
      };
      upstream.reply = text;
      const streamed = upstream.streams.length;
      await p.evaluate(watchTheReply, { end: END, mark: FIRST_TEXT });
      await browser.startTracing(p, { categories: ["toplevel", "blink.user_timing"] });
      const before = await busy();
      const enterAt = Date.now();
      await w.input.press("Enter");
      const shown = await onScreen(p, enterAt + cap);
      await until("the upstream's last byte", () => upstream.streams.length > streamed, cap);
      const up = upstream.streams[streamed];
      const stream = { upstream: (up.lastByteAt - up.firstByteAt) / 1000, deltas: up.deltas };
      // Not done by the deadline: closing the browser ends the page and its trace.
      if (!shown) return { ...stream, capped: true, onScreen: enterAt + cap - up.lastByteAt };
      const after = await busy();
      const layout = (after.layout - before.layout) * 1000;
      const task = (after.task - before.task) * 1000;
      return { ...stream, longest: longestTask(await browser.stopTracing()), busy: task, script: task - layout, layout, onScreen: shown - up.lastByteAt };
    } finally {
      await browser.close();
    }
  }

  const rows = [];
  try {
    for (const kb of sizes) {
      const text = reply(kb);
      const results = Object.fromEntries(builds.map((b) => [b.name, []]));
      for (let run = 0; run < runs; run++)
        for (const build of run % 2 ? [...builds].reverse() : builds) {
          const r = await measure(build, text);
          log(`${kb} KB ${build.name} run ${run + 1}:`, JSON.stringify(r));
          results[build.name].push(r);
        }
      for (const b of builds) rows.push({ kb, build: b.name, results: results[b.name] });
    }
  } finally {
    load.push(loadavg()[0]);
    await Promise.allSettled([shop.close(), ks.dispose(), upstream.close()]);
    if (opt["before-ref"] && beforeDir) rmSync(resolve(beforeDir, "../../.."), { recursive: true, force: true });
  }

  const ms = (x) => x.toFixed(0);
  // A run cut off at the deadline: the reply was not on screen at least that long after its last byte.
  const cut = (r) => `> ${(r.onScreen / 1000).toFixed(0)} s`;
  console.log(`${cpus().length} cores (${cpus()[0].model}), load average ${load.map((l) => l.toFixed(2)).join(" → ")}; ${runs} runs, ${opt.rate} deltas/s of 4 characters\n`);
  console.log("| reply | deltas | widget | longest task (ms) | main thread busy (ms) | script and DOM (ms) | style and layout (ms) | last byte → on screen (ms) | upstream first → last byte (s) |");
  console.log("|---:|---:|---|---:|---:|---:|---:|---:|---:|");
  for (const { kb, build, results } of rows) {
    const m = (k) => median(results.map((r) => r[k]));
    const capped = results.filter((r) => r.capped);
    const cols = capped.length
      ? ["—", "—", "—", "—", cut(capped.reduce((a, b) => (a.onScreen < b.onScreen ? a : b)))]
      : ["longest", "busy", "script", "layout", "onScreen"].map((k) => ms(m(k)));
    console.log(`| ${kb} KB | ${results[0].deltas} | ${build} | ${cols.join(" | ")} | ${m("upstream").toFixed(1)} |`);
  }
  console.log("\nSingle runs (longest task / busy / script and DOM / last byte → on screen, ms):\n");
  console.log("| reply | widget | runs |");
  console.log("|---:|---|---|");
  for (const { kb, build, results } of rows)
    console.log(`| ${kb} KB | ${build} | ${results.map((r) => (r.capped ? `on screen ${cut(r)} after the last byte` : [r.longest, r.busy, r.script, r.onScreen].map(ms).join(" / "))).join("; ")} |`);
}

await main();
