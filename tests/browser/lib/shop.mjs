// The "shop": a tiny HTTP server on its own port (so its origin differs from keepstar's)
// serving the host pages that embed the widget.

import http from "node:http";
import { freePort } from "./keepstar.mjs";

export class Shop {
  static async start() {
    const shop = new Shop();
    shop.routes = new Map();
    shop.port = await freePort();
    shop.origin = `http://127.0.0.1:${shop.port}`;
    shop.server = http.createServer((req, res) => shop.handle(req, res));
    await new Promise((ok, fail) => {
      shop.server.once("error", fail);
      shop.server.listen(shop.port, "127.0.0.1", ok);
    });
    return shop;
  }

  /**
   * Serves `body` at `path`. `handler` may be a function `(req, res) => void` for full control.
   * @param {string} path
   * @param {string | ((req: http.IncomingMessage, res: http.ServerResponse) => void)} body
   * @param {Record<string, string>} headers
   */
  route(path, body, headers = {}) {
    this.routes.set(path, { body, headers });
    return this.origin + path;
  }

  /** An HTML page; `head`/`body` are inserted as they are. */
  page(path, { title = "Shop", head = "", body = "", lang = "en", headers = {} }) {
    const html = `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="/favicon.ico">
${head}
</head>
<body>
${body}
</body>
</html>`;
    return this.route(path, html, { "Content-Type": "text/html; charset=utf-8", ...headers });
  }

  handle(req, res) {
    const path = new URL(req.url, this.origin).pathname;
    const r = this.routes.get(path);
    if (path === "/favicon.ico" && !r) {
      res.writeHead(204).end();
      return;
    }
    if (!r) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    if (typeof r.body === "function") return r.body(req, res);
    res.writeHead(200, { "Cache-Control": "no-store", ...r.headers }).end(r.body);
  }

  async close() {
    this.server.closeAllConnections?.();
    await new Promise((r) => this.server.close(r));
  }
}

/** A page full of ordinary host content (text, links, buttons) to embed the widget in. */
export function hostContent(heading = "Welcome to the shop") {
  return `<header class="site-header"><nav><a href="#a">Home</a> <a href="#b">Tents</a> <a href="#c">Coffee</a></nav></header>
<main class="content">
  <h1 id="hero">${heading}</h1>
  <p class="intro">Gear for the trail and coffee for the morning after. This paragraph is ordinary host content.</p>
  <div class="card"><h2>Tents</h2><p>From ultralight shelters to four-season basecamps.</p><button class="button">Shop tents</button></div>
  <div class="card"><h2>Grinders</h2><p>Hand and electric burr grinders.</p><input class="input" placeholder="Search"></div>
  <div class="panel"><p class="message">A host element with class "message" and "panel".</p><textarea>host textarea</textarea></div>
</main>
<footer class="site-footer">Footer text</footer>`;
}
