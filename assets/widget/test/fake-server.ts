// A fake keepstar API behind a stubbed fetch: records requests, serves sessions,
// messages, history, products and handoff, and gives tests a handle on each SSE stream.

import { expect, vi } from "vitest";

export interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: any;
}

export interface Stream {
  req: Req;
  send(event: string, data: unknown, id?: string): void;
  raw(text: string): void;
  end(): void;
  closed: boolean;
}

type Handler = (req: Req) => Response | Promise<Response> | undefined;

const enc = new TextEncoder();
export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

export class FakeServer {
  requests: Req[] = [];
  streams: Stream[] = [];
  /** Per-path overrides, consulted first; return undefined to fall through. */
  override: Handler | null = null;
  config = { title: "Nike Store", greeting: "Hi! How can I help?", color: "#ffcc00", position: "right", locale: "en", logo_url: null, launcher_text: null };
  conversation: string | null = null;
  history: any[] = [];
  sessions = 0;
  nextId = 1;
  online = true;

  constructor(readonly base = "https://chat.example.com") {
    vi.stubGlobal("fetch", (url: string, init: RequestInit = {}) => this.fetch(url, init));
  }

  posts(path: string): Req[] {
    return this.requests.filter((r) => r.method === "POST" && r.path === path);
  }

  get lastStream(): Stream {
    return this.streams[this.streams.length - 1];
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    if (!this.online) throw new TypeError("Failed to fetch");
    const u = new URL(url);
    expect(u.origin).toBe(this.base);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((init.headers as Record<string, string>) || {})) headers[k.toLowerCase()] = v;
    const req: Req = {
      method: init.method || "GET",
      path: u.pathname,
      query: u.searchParams,
      headers,
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    this.requests.push(req);
    const o = await this.override?.(req);
    if (o) return o;
    return this.route(req, init.signal || undefined);
  }

  private route(req: Req, signal?: AbortSignal): Response {
    const auth = req.headers.authorization;
    if (req.path === "/api/v1/sessions") {
      this.sessions++;
      return json(200, {
        token: "tok" + this.sessions,
        expires_in: 3600,
        visitor: req.body.visitor || "vis_1",
        conversation: this.conversation,
        config: this.config,
      });
    }
    if (!auth?.startsWith("Bearer tok")) return json(401, { error: { code: "unauthorized", message: "no" } });
    if (req.path === "/api/v1/messages" && req.method === "POST") {
      this.conversation ||= "c1";
      const message = { id: "m" + this.nextId++, conversation_id: this.conversation, role: "visitor", text: req.body.text, client_id: req.body.client_id, status: "complete", created_at: new Date().toISOString() };
      return json(202, { message, conversation: this.conversation });
    }
    if (req.path === "/api/v1/messages") return json(200, { messages: this.history, has_more: false });
    if (req.path.startsWith("/api/v1/products/"))
      return json(200, { formation: { kind: "detail", item: { id: "p1", title: "Detail of " + req.path.split("/").pop(), attributes: { Size: "42" } } } });
    if (req.path === "/api/v1/handoff") return json(202, {});
    if (req.path === "/api/v1/events") {
      let ctl!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
      const s: Stream = {
        req,
        closed: false,
        raw: (text) => !s.closed && ctl.enqueue(enc.encode(text)),
        send: (event, data, id) => s.raw(`event: ${event}\n${id ? `id: ${id}\n` : ""}data: ${JSON.stringify(data)}\n\n`),
        end: () => {
          if (s.closed) return;
          s.closed = true;
          ctl.close();
        },
      };
      signal?.addEventListener("abort", () => {
        if (s.closed) return;
        s.closed = true;
        ctl.error(new DOMException("aborted", "AbortError"));
      });
      this.streams.push(s);
      return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
    }
    return json(404, { error: { code: "not_found", message: "no route" } });
  }
}
