// A real keepstar server for one test file: its own temp dir, config, database and port.

import { spawn, execFile } from "node:child_process";
import { createWriteStream, mkdtempSync, appendFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import net from "node:net";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, "../../..");
export const BIN = process.env.KEEPSTAR_BIN || join(REPO, "target/debug/keepstar");

/** A TCP port that was free a moment ago (bind port 0, read it, close). */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.unref();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Polls `fn` until it returns a truthy value; throws `what` after `ms`. */
export async function until(what, fn, ms = 10000, every = 50) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

// Servers still running when the test process ends (a failed assertion, a crash) are killed.
const live = new Set();
process.on("exit", () => {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});

const LIMITS = `
[limits]
sessions_per_minute_per_ip = 10000
messages_per_minute_per_ip = 10000
messages_per_minute_per_visitor = 10000
`;

/** `keepstar serve --demo` in a temp dir. */
export class Keepstar {
  /**
   * @param {{hostOrigins?: string[], tenants?: string[]}} opts origins (the shop pages) to allow
   *   for the given demo tenants, besides keepstar's own public URL.
   */
  static async start({ hostOrigins = [], tenants = ["demo", "demo-ru"] } = {}) {
    const ks = new Keepstar();
    ks.dir = mkdtempSync(join(tmpdir(), "keepstar-browser-"));
    ks.config = join(ks.dir, "keepstar.toml");
    ks.port = await freePort();
    ks.url = `http://127.0.0.1:${ks.port}`;
    await ks.cli("init", "--public-url", ks.url);
    appendFileSync(ks.config, LIMITS);
    await ks.serve();
    for (const t of tenants) for (const o of hostOrigins) await ks.cli("tenant", "set", t, "--add-origin", o);
    ks.keys = {};
    ks.srcs = {};
    for (const t of tenants) {
      const { key, src } = JSON.parse(await ks.cli("snippet", t, "--json"));
      ks.keys[t] = key;
      ks.srcs[t] = src;
    }
    // The server re-reads allowed origins within 2 s: wait until CORS answers for each.
    for (const o of hostOrigins) await until(`origin ${o} allowed`, () => ks.allows(o), 8000, 100);
    return ks;
  }

  /**
   * Adds tenant `slug` (English), embeddable from `origins`, with the `tenant set` flags `set`
   * (a provider, say); issues its public key; resolves once a page of the first origin can open
   * a session with it.
   */
  async addTenant(slug, origins, set = []) {
    await this.cli("tenant", "add", slug, "--name", slug, "--locale", "en", ...origins.flatMap((o) => ["--origin", o]));
    if (set.length) await this.cli("tenant", "set", slug, ...set);
    await this.cli("key", "issue", slug);
    const { key, src } = JSON.parse(await this.cli("snippet", slug, "--json"));
    this.keys[slug] = key;
    this.srcs[slug] = src;
    await until(`a session of ${slug} from ${origins[0]}`, () => this.opensSession(slug, origins[0]), 8000, 100);
  }

  /** Whether a page of `origin` can open a session with `tenant` (it opens one). */
  async opensSession(tenant, origin) {
    const r = await fetch(this.url + "/api/v1/sessions", {
      method: "POST",
      headers: { Origin: origin, "Content-Type": "application/json" },
      body: JSON.stringify({ tenant, key: this.keys[tenant] }),
    });
    return r.status === 200;
  }

  /** Runs the CLI against this server's config; resolves to stdout. */
  async cli(...args) {
    try {
      const { stdout } = await run(BIN, ["--config", this.config, ...args], { timeout: 30000 });
      return stdout;
    } catch (e) {
      throw new Error(`keepstar ${args.join(" ")} failed: ${e.stderr || e.message}`);
    }
  }

  /** Starts (or restarts) `serve --demo` on the same port and data dir; resolves when /readyz is 200. */
  async serve() {
    const log = createWriteStream(join(this.dir, "serve.log"), { flags: "a" });
    const proc = spawn(
      BIN,
      ["--config", this.config, "serve", "--demo", "--listen", `127.0.0.1:${this.port}`, "--public-url", this.url],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    proc.stdout.pipe(log);
    proc.stderr.pipe(log);
    this.proc = proc;
    live.add(proc);
    proc.once("exit", () => live.delete(proc));
    this.exited = new Promise((r) => proc.once("exit", (code, signal) => r({ code, signal })));
    let gone = null;
    this.exited.then((x) => (gone = x));
    await until(
      "keepstar /readyz",
      async () => {
        if (gone) throw new Error(`keepstar exited (${JSON.stringify(gone)}):\n${this.log()}`);
        const r = await fetch(this.url + "/readyz").catch(() => null);
        return r?.status === 200;
      },
      20000,
      50,
    );
  }

  /** Whether the CORS layer accepts `origin` (a preflight, which stores nothing). */
  async allows(origin) {
    const r = await fetch(this.url + "/api/v1/sessions", {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
    });
    return r.headers.get("access-control-allow-origin") === origin;
  }

  /** The embed tag for a page served elsewhere: `snippet --json`'s src and key. */
  snippet(tenant = "demo") {
    return `<script async src="${this.srcs[tenant]}" data-tenant="${tenant}" data-key="${this.keys[tenant]}"></script>`;
  }

  log() {
    try {
      return readFileSync(join(this.dir, "serve.log"), "utf8");
    } catch {
      return "";
    }
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal = "SIGTERM") {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill(signal);
    const t = setTimeout(() => p.kill("SIGKILL"), 10000);
    await this.exited;
    clearTimeout(t);
  }

  /** Stops the server and removes its directory (keeps it when KEEP_TMP is set). */
  async dispose() {
    await this.stop();
    if (!process.env.KEEP_TMP) rmSync(this.dir, { recursive: true, force: true });
  }
}
