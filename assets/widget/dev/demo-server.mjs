// A local stand-in for the keepstar server, for trying the built widget in a real browser:
// serves dist/, a demo shop page under a strict CSP (no 'unsafe-inline' styles), and a fake
// /api/v1 that streams canned replies with formations over SSE. Loopback only.
//
//   npm run build && node dev/demo-server.mjs [PORT]     then open http://127.0.0.1:PORT/
//   Page options: ?open=1 (data-open)  &say=TEXT (sends TEXT on load)  &locale=ru  &dark=1

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "dist");
const port = Number(process.argv[2] || 8787);

const conversations = new Map(); // id -> { log: [{id, event, data}], subs: Set<res>, messages: [] }
let seq = 0;
const conv = (id) => {
  if (!conversations.has(id)) conversations.set(id, { log: [], subs: new Set(), messages: [] });
  return conversations.get(id);
};
const now = () => new Date().toISOString();

function publish(c, event, data) {
  const id = String(++seq);
  c.log.push({ id, event, data });
  for (const res of c.subs) res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

const img = (n, hue) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200"><rect width="200" height="200" fill="hsl(${hue},60%,92%)"/><path d="M30 130q40-50 90-20l50 10v20H30z" fill="hsl(${hue},55%,45%)"/><text x="100" y="175" font-size="18" text-anchor="middle" fill="#333">#${n}</text></svg>`;

const product = (n, base) => ({
  id: "p_" + n,
  title: ["Nike Air Max 90", "Adidas Ultraboost Light running shoe with a long name", "Puma Velocity Nitro 3", "Asics Gel-Kayano 30", "New Balance 1080v13"][n % 5],
  subtitle: ["Nike · Sneakers", "Adidas · Running", "Puma · Running", "Asics · Running", "New Balance · Running"][n % 5],
  image: n === 3 ? `${base}/img/missing.png` : `${base}/img/${n}.svg`,
  price: { amount: 1299000 + n * 100000, currency: "RUB", display: `${12990 + n * 1000} ₽`.replace(/(\d)(\d{3}) ₽/, "$1 $2 ₽") },
  compare_at: n % 2 ? { amount: 1599000, currency: "RUB", display: "15 990 ₽" } : null,
  rating: [4.7, 4.2, 3.6, 4.9, 4.4][n % 5],
  badges: n % 2 ? ["Sale"] : ["New", "Bestseller"],
  url: `https://shop.example/p/${n}`,
  attributes: { Weight: `${260 + (n % 3) * 20} g`, Drop: "10 mm", Surface: n % 2 ? "Road" : "Trail" },
});

function reply(text, base) {
  const t = text.toLowerCase();
  const items = [1, 2, 3, 4].map((n) => product(n, base));
  if (/compare|сравн/.test(t))
    return { text: "Here is how they compare:", formation: { v: 1, kind: "comparison", title: "Comparison", items: items.slice(0, 3), fallback_text: "…" } };
  for (const layout of ["carousel", "list", "grid"])
    if (t.includes(layout) || (layout === "grid" && /shoe|кросс/.test(t)))
      return {
        text: `I found **${items.length} pairs** under *20 000 ₽*:`,
        formation: { v: 1, kind: "cards", layout, title: "Running shoes under 20 000 ₽", items, fallback_text: "1. Nike Air Max 90 — 12 990 ₽" },
      };
  if (/fail|ошиб/.test(t)) return { error: true };
  return {
    text: "I can help with:\n- finding **shoes** (try *carousel* or *list*)\n- comparing models (`compare`)\n\nDetails: https://shop.example/help",
    formation: { v: 1, kind: "quick_replies", options: ["Show shoes", "Carousel", "Compare"] },
  };
}

async function streamReply(c, cid, text, base) {
  const r = reply(text, base);
  const mid = "m" + ++seq;
  await sleep(400);
  publish(c, "typing", { role: "assistant", on: true });
  await sleep(500);
  if (r.error) return publish(c, "error", { message_id: mid, code: "provider_unavailable", message: "The assistant is unavailable", retryable: true });
  for (const part of r.text.match(/.{1,6}/gs)) {
    publish(c, "delta", { message_id: mid, text: part });
    await sleep(25);
  }
  if (r.formation) publish(c, "formation", { message_id: mid, formation: r.formation });
  const message = { id: mid, conversation_id: cid, role: "assistant", text: r.text, formation: r.formation, status: "complete", created_at: now() };
  c.messages.push(message);
  publish(c, "done", { message_id: mid, message });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const send = (res, status, body, headers = {}) => {
  res.writeHead(status, { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*", ...headers });
  res.end(JSON.stringify(body));
};
const readBody = (req) =>
  new Promise((r) => {
    let b = "";
    req.on("data", (d) => (b += d));
    req.on("end", () => r(b ? JSON.parse(b) : {}));
  });

function page(u) {
  const q = u.searchParams;
  const attrs = [`data-tenant="demo"`, `data-key="pk_demo"`];
  if (q.get("open")) attrs.push(`data-open`);
  if (q.get("locale")) attrs.push(`data-locale="${q.get("locale").replace(/\W/g, "")}"`);
  if (q.get("pos")) attrs.push(`data-position="${q.get("pos").replace(/\W/g, "")}"`);
  const say = q.get("say");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Demo shop</title><link rel="stylesheet" href="/host.css"></head>
<body><h1>Demo shop</h1><p class="message">A host page whose CSS tries hard to leak into the widget.</p>
${Array.from({ length: 12 }, (_, i) => `<p>Paragraph ${i + 1}. Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>`).join("\n")}
<script async src="/widget.js" ${attrs.join(" ")}></script>
${say ? `<script src="/say.js" data-say="${say.replace(/[^\p{L}\p{N} ]/gu, "")}"></script>` : ""}
</body></html>`;
}

const HOST_CSS = `html{font-size:24px}*{font-family:"Comic Sans MS",cursive!important;letter-spacing:2px;text-transform:uppercase}
button{background:hotpink!important;border:4px dashed red!important}.message,.b,.panel,.launcher,.card{color:red;font-size:40px}
div{padding:10px;margin:10px}keepstar-widget{color:green;font-size:30px}p{line-height:3}
${"" /* dark=1 handled by the browser's colour scheme */}`;

createServer(async (req, res) => {
  const u = new URL(req.url, `http://${req.headers.host}`);
  const base = `http://${req.headers.host}`;
  try {
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, Last-Event-ID",
        "Access-Control-Max-Age": "600",
      });
      return res.end();
    }
    if (u.pathname === "/") {
      res.writeHead(200, {
        "Content-Type": "text/html; charset=utf-8",
        // The strictest policy a host can have that still runs the widget.
        "Content-Security-Policy": `default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; style-src 'self'`,
      });
      return res.end(page(u));
    }
    if (u.pathname === "/host.css") return res.writeHead(200, { "Content-Type": "text/css" }).end(HOST_CSS);
    if (u.pathname === "/say.js")
      return res
        .writeHead(200, { "Content-Type": "text/javascript" })
        .end(`addEventListener("load",()=>{const s=document.querySelector("script[data-say]");window.Keepstar&&Keepstar.send(s.dataset.say)})`);
    if (u.pathname === "/widget.js" || u.pathname.startsWith("/widget/")) {
      const name = u.pathname === "/widget.js" ? "widget.js" : u.pathname.slice(8);
      if (!/^[\w.]+\.js$/.test(name)) return send(res, 404, {});
      const body = await readFile(join(dist, name));
      return res
        .writeHead(200, {
          "Content-Type": "text/javascript; charset=utf-8",
          "Cache-Control": name === "widget.js" ? "no-cache" : "public, max-age=31536000, immutable",
        })
        .end(body);
    }
    const m = /^\/img\/(\d+)\.svg$/.exec(u.pathname);
    if (m) return res.writeHead(200, { "Content-Type": "image/svg+xml" }).end(img(m[1], (+m[1] * 67) % 360));
    if (u.pathname === "/api/v1/sessions" && req.method === "POST") {
      const b = await readBody(req);
      const ru = (b.locale || "").startsWith("ru");
      return send(res, 200, {
        token: "demo-token",
        expires_in: 3600,
        visitor: b.visitor || "vis_" + Math.random().toString(36).slice(2),
        conversation: null,
        config: {
          title: ru ? "Магазин кроссовок" : "Sneaker Shop",
          greeting: ru ? "Здравствуйте! Чем помочь?" : "Hi! Looking for something? Try **shoes**.",
          color: u.searchParams.get("color") || "#4f46e5",
          position: "right",
          locale: ru ? "ru" : "en",
          logo_url: null,
          launcher_text: null,
        },
      });
    }
    if (!u.pathname.startsWith("/api/")) return send(res, 404, { error: { code: "not_found", message: "not found" } });
    if (req.headers.authorization !== "Bearer demo-token") return send(res, 401, { error: { code: "unauthorized", message: "missing token" } });
    if (u.pathname === "/api/v1/messages" && req.method === "POST") {
      const b = await readBody(req);
      const cid = b.conversation || "c_" + ++seq;
      const c = conv(cid);
      const message = { id: "m" + ++seq, conversation_id: cid, role: "visitor", text: b.text, client_id: b.client_id, status: "complete", created_at: now() };
      c.messages.push(message);
      send(res, 202, { message, conversation: cid });
      publish(c, "message", message);
      void streamReply(c, cid, b.text, base);
      return;
    }
    if (u.pathname === "/api/v1/messages") return send(res, 200, { messages: conv(u.searchParams.get("conversation")).messages, has_more: false });
    if (u.pathname.startsWith("/api/v1/products/")) {
      const n = Number(u.pathname.split("_").pop()) || 1;
      const p = product(n, base);
      return send(res, 200, { formation: { v: 1, kind: "detail", item: { ...p, images: [p.image, `${base}/img/${n + 5}.svg`], description: "Light, responsive cushioning.\nGreat for daily runs.", availability: "In stock" } } });
    }
    if (u.pathname === "/api/v1/handoff") {
      const c = conv(u.searchParams.get("conversation") || (await readBody(req)).conversation);
      send(res, 202, {});
      publish(c, "handoff", { state: "requested" });
      setTimeout(() => publish(c, "handoff", { state: "active", operator: { name: "Anna" } }), 800);
      return;
    }
    if (u.pathname === "/api/v1/events") {
      const c = conv(u.searchParams.get("conversation"));
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*" });
      const last = req.headers["last-event-id"];
      if (last) for (const e of c.log.filter((e) => +e.id > +last)) res.write(`id: ${e.id}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
      c.subs.add(res);
      const ka = setInterval(() => res.write(": keep-alive\n\n"), 15000);
      req.on("close", () => {
        clearInterval(ka);
        c.subs.delete(res);
      });
      return;
    }
    send(res, 404, { error: { code: "not_found", message: "not found" } });
  } catch (e) {
    send(res, 500, { error: { code: "internal", message: String(e) } });
  }
}).listen(port, "127.0.0.1", () => console.error(`demo: http://127.0.0.1:${port}/`));
