import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Chat } from "../src/chat/app";
import { renderMarkdown, scanned } from "../src/chat/markdown";
import { boot } from "../src/loader/boot";
import { h } from "../src/shared/dom";
import { BOOT_KEY, type ChatBoot, type KeepstarApi } from "../src/shared/types";
import { FakeServer, json } from "./fake-server";
import { longReply } from "./replies";

let server: FakeServer;
let api: KeepstarApi;
let root: ShadowRoot;

function mount(attrs: Record<string, string> = {}) {
  const s = document.createElement("script");
  s.src = "https://chat.example.com/widget.js";
  for (const [k, v] of Object.entries({ "data-tenant": "nike", "data-key": "pk_1", ...attrs })) s.setAttribute(k, v);
  let injected: HTMLScriptElement | null = null;
  const orig = document.head.appendChild.bind(document.head);
  vi.spyOn(document.head, "appendChild").mockImplementation(<T extends Node>(n: T): T => {
    if (n instanceof HTMLScriptElement) return (injected = n as HTMLScriptElement), n;
    return orig(n);
  });
  api = boot(s, { chat: "chat.test.js", version: "test", idle: (load) => load() })!;
  // Play the chat bundle's part of the hand-off.
  (injected! as unknown as Record<symbol, (b: ChatBoot) => void>)[Symbol.for(BOOT_KEY)]((ctx) => new Chat(ctx));
  root = document.querySelector("keepstar-widget")!.shadowRoot!;
  return api;
}

const $ = <T extends Element = HTMLElement>(sel: string) => root.querySelector<T>(sel);
const $$ = (sel: string) => [...root.querySelectorAll<HTMLElement>(sel)];
const bubbles = (role?: string) => $$(role ? `.m[data-role=${role}] .b` : ".m[data-role] .b").map((b) => b.textContent);
const input = () => $<HTMLTextAreaElement>("textarea")!;
const press = (key: string, init: KeyboardEventInit = {}) =>
  input().dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...init }));
function type(text: string) {
  input().value = text;
  press("Enter");
}

beforeEach(() => {
  document.head.replaceChildren();
  document.body.replaceChildren();
  localStorage.clear();
  sessionStorage.clear();
  delete (window as { Keepstar?: unknown }).Keepstar;
  server = new FakeServer();
});

afterEach(() => {
  api?.destroy();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe("chat", () => {
  it("opens a dialog, creates a session and focuses the composer", async () => {
    mount();
    api.open();
    const panel = $(".p")!;
    expect(panel.getAttribute("role")).toBe("dialog");
    expect(panel.getAttribute("part")).toBe("panel");
    expect(root.activeElement).toBe(input());
    await vi.waitFor(() => expect(server.sessions).toBe(1));
    const body = server.posts("/api/v1/sessions")[0].body;
    expect(body).toMatchObject({ tenant: "nike", key: "pk_1", page: { url: location.href } });
    await vi.waitFor(() => expect($(".tt")!.textContent).toBe("Nike Store"));
    expect(panel.getAttribute("aria-label")).toBe("Nike Store");
    expect($(".m.a .b")!.textContent).toBe("Hi! How can I help?");
    expect(localStorage.getItem("keepstar:nike:visitor")).toBe('"vis_1"');
    // Tenant colour #ffcc00 is light: the text on it must be black.
    const host = document.querySelector<HTMLElement>("keepstar-widget")!;
    expect(host.style.getPropertyValue("--ks-b")).toBe("#ffcc00");
    expect(host.style.getPropertyValue("--ks-ob")).toBe("#000");
    expect($("button.l")!.getAttribute("aria-expanded")).toBe("true");
    expect($("button.l")!.getAttribute("aria-label")).toBe("Close chat");
  });

  it("sends on Enter, streams the reply, and dedupes the echo of the visitor's message", async () => {
    mount();
    api.open();
    await vi.waitFor(() => expect(server.sessions).toBe(1));
    press("Enter", { shiftKey: true });
    type("Need running shoes");
    expect(input().value).toBe("");
    expect(bubbles("visitor")).toEqual(["Need running shoes"]);
    await vi.waitFor(() => expect(server.posts("/api/v1/messages").length).toBe(1));
    const post = server.posts("/api/v1/messages")[0];
    expect(post.headers.authorization).toBe("Bearer tok1");
    expect(post.headers["content-type"]).toBe("application/json");
    expect(post.body.text).toBe("Need running shoes");
    expect(post.body.client_id).toMatch(/^[0-9a-f-]{36}$/);
    await vi.waitFor(() => expect(server.streams.length).toBe(1));
    const s = server.lastStream;
    expect(s.req.query.get("conversation")).toBe("c1");
    expect(s.req.headers.authorization).toBe("Bearer tok1");
    expect(localStorage.getItem("keepstar:nike:conversation")).toBe('"c1"');

    expect($(".ty")).toBeNull(); // the dots follow the server's typing events, not the POST
    s.send("message", { id: "m1", role: "visitor", text: "Need running shoes", client_id: post.body.client_id, status: "complete" }, "1");
    s.send("typing", { role: "assistant", on: true }, "1b");
    await vi.waitFor(() => expect($(".ty")).not.toBeNull()); // typing dots before the first delta
    s.send("delta", { message_id: "m2", text: "Here are " }, "2");
    await vi.waitFor(() => expect($(".ty")).toBeNull());
    s.send("delta", { message_id: "m2", text: "**three** pairs" }, "3");
    await vi.waitFor(() => expect(bubbles("assistant")).toEqual(["Here are three pairs"]));
    expect($(".m[data-role=assistant] strong")!.textContent).toBe("three");
    expect($("[aria-live]")!.textContent).toBe("");
    s.send("formation", { message_id: "m2", formation: { kind: "cards", layout: "grid", items: [{ id: "p1", title: "Air" }] } }, "4");
    s.send("done", { message_id: "m2", message: { id: "m2", role: "assistant", text: "Here are **three** pairs", status: "complete" } }, "5");
    await vi.waitFor(() => expect($("[aria-live]")!.textContent).toBe("New reply: Here are **three** pairs"));
    expect(bubbles("visitor")).toEqual(["Need running shoes"]);
    expect(bubbles("assistant")).toEqual(["Here are three pairs"]);
    expect($$(".cd").length).toBe(1);
    // A replayed delta after done changes nothing.
    s.send("delta", { message_id: "m2", text: "again" }, "6");
    s.send("message", { id: "m1", role: "visitor", text: "Need running shoes", status: "complete" }, "7");
    await new Promise((r) => setTimeout(r, 20));
    expect(bubbles()).toEqual(["Need running shoes", "Here are three pairs"]);
  });

  it("streams a long reply in 4-character deltas in work linear in its length, ending as a single render", async () => {
    server.conversation = "c1";
    mount();
    api.open();
    await vi.waitFor(() => expect(server.streams.length).toBe(1));
    const text = longReply(40);
    const whole = h("div", { class: "b", dir: "auto" }, renderMarkdown(text));
    const bubble = () => $(".m[data-role=assistant] .b")!;
    scanned.chars = 0;
    for (let i = 0; i < text.length; i += 4) {
      server.lastStream.send("delta", { message_id: "a1", text: text.slice(i, i + 4) });
      // Now and then a frame passes, as it does while a real reply streams in.
      if (i % 400 === 0) await new Promise((r) => requestAnimationFrame(r));
    }
    await vi.waitFor(() => expect(bubble().textContent).toBe(whole.textContent));
    // Rendering it all again on every delta (as the widget did) came to about 3 400 times.
    expect(scanned.chars / text.length).toBeLessThan(4);
    server.lastStream.send("done", { message_id: "a1", message: { id: "a1", role: "assistant", text, status: "complete" } });
    await vi.waitFor(() => expect($("[aria-live]")!.textContent).toMatch(/^New reply: Option 0/));
    expect(bubble().isEqualNode(whole)).toBe(true);
  });

  it("reconnects with Last-Event-ID after the stream drops", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    server.conversation = "c9";
    mount();
    await vi.waitFor(() => expect(server.streams.length).toBe(1));
    expect(server.lastStream.req.headers["last-event-id"]).toBeUndefined();
    server.lastStream.send("message", { id: "o1", role: "operator", operator_name: "Anna", text: "Hello from Anna" }, "41");
    server.lastStream.raw(": keep-alive\n\n");
    await vi.waitFor(() => expect(bubbles("operator")).toEqual(["Hello from Anna"]));
    expect($(".m[data-role=operator] .nm")!.textContent).toBe("Anna");
    server.lastStream.end();
    await vi.waitFor(() => expect($(".bn")!.hidden).toBe(false));
    expect($(".bn")!.textContent).toBe("Reconnecting…");
    await vi.waitFor(() => expect(server.streams.length).toBe(2), { timeout: 3000 });
    expect(server.lastStream.req.headers["last-event-id"]).toBe("41");
    await vi.waitFor(() => expect($(".bn")!.hidden).toBe(true));
  });

  it("counts unread replies on the launcher while closed", async () => {
    server.conversation = "c9";
    mount();
    await vi.waitFor(() => expect(server.streams.length).toBe(1));
    const unread: unknown[] = [];
    api.on("unread", (d) => unread.push(d));
    server.lastStream.send("message", { id: "o1", role: "operator", text: "Are you there?" }, "1");
    server.lastStream.send("done", { message_id: "a1", message: { id: "a1", role: "assistant", text: "Hi" } }, "2");
    await vi.waitFor(() => expect($(".bd")!.textContent).toBe("2"));
    expect($(".bd")!.hidden).toBe(false);
    expect($("button.l")!.getAttribute("aria-label")).toBe("Open chat (2 unread)");
    api.open();
    expect($(".bd")!.hidden).toBe(true);
    expect(unread.at(-1)).toEqual({ count: 0 });
  });

  it("restores history on reload and dedupes it against the stream", async () => {
    server.conversation = "c1";
    server.history = [
      { id: "m2", role: "assistant", text: "Second", created_at: "2025-01-01T10:00:02Z", status: "complete" },
      { id: "m1", role: "visitor", text: "First", created_at: "2025-01-01T10:00:01Z", status: "complete" },
    ];
    mount();
    await vi.waitFor(() => expect(bubbles()).toEqual(["First", "Second"]));
    await vi.waitFor(() => expect(server.streams.length).toBe(1));
    const hist = server.requests.find((r) => r.path === "/api/v1/messages" && r.method === "GET")!;
    expect(hist.query.get("conversation")).toBe("c1");
    server.lastStream.send("message", { id: "m2", role: "assistant", text: "Second", status: "complete" }, "9");
    await new Promise((r) => setTimeout(r, 20));
    expect(bubbles()).toEqual(["First", "Second"]);
    expect($(".m[data-role=visitor] time")).not.toBeNull();
  });

  it("shows the wait time on 429 and retries the same client_id later", async () => {
    mount();
    api.open();
    let n = 0;
    server.override = (req) =>
      req.path === "/api/v1/messages" && req.method === "POST" && n++ === 0
        ? json(429, { error: { code: "rate_limited", message: "slow down" } }, { "Retry-After": "1" })
        : undefined;
    type("hello");
    await vi.waitFor(() => expect(bubbles("system")).toContain("You are sending messages too fast. Try again in 1 s."));
    expect($(".m[data-role=visitor] .sx")!.textContent).toBe("Waiting to send");
    await vi.waitFor(() => expect(server.posts("/api/v1/messages").length).toBe(2), { timeout: 5000 });
    const [a, b] = server.posts("/api/v1/messages");
    expect(b.body.client_id).toBe(a.body.client_id);
    await vi.waitFor(() => expect($(".m[data-role=visitor] .sx")!.hidden).toBe(true));
  });

  it("queues messages while offline, persists them, and sends them once back online", async () => {
    mount();
    api.open();
    await vi.waitFor(() => expect(server.sessions).toBe(1));
    vi.spyOn(navigator, "onLine", "get").mockReturnValue(false);
    window.dispatchEvent(new Event("offline"));
    expect($(".bn")!.hidden).toBe(false);
    type("one");
    type("two");
    await vi.waitFor(() => expect($$(".m[data-role=visitor] .sx").map((e) => e.textContent)).toEqual(["Waiting to send", "Waiting to send"]));
    const stored = Object.keys(localStorage).filter((k) => k.startsWith("keepstar:nike:out:"));
    expect(stored.length).toBe(2);
    expect(server.posts("/api/v1/messages").length).toBe(0);
    vi.spyOn(navigator, "onLine", "get").mockReturnValue(true);
    window.dispatchEvent(new Event("online"));
    await vi.waitFor(() => expect(server.posts("/api/v1/messages").map((r) => r.body.text)).toEqual(["one", "two"]));
    expect(server.posts("/api/v1/messages")[1].body.conversation).toBe("c1");
    await vi.waitFor(() => expect(Object.keys(localStorage).filter((k) => k.startsWith("keepstar:nike:out:"))).toEqual([]));
  });

  it("resends a message left unsent by a previous page load of the same tab", async () => {
    sessionStorage.setItem("keepstar:tab", "tab-a");
    localStorage.setItem("keepstar:nike:out:cid-1", JSON.stringify({ client_id: "cid-1", text: "from before", tab: "tab-a", ts: 1, due: 0, tries: 1 }));
    mount();
    expect(bubbles("visitor")).toEqual(["from before"]);
    await vi.waitFor(() => expect(server.posts("/api/v1/messages").length).toBe(1));
    expect(server.posts("/api/v1/messages")[0].body).toMatchObject({ client_id: "cid-1", text: "from before" });
  });

  it("leaves another live tab's queued message alone", async () => {
    sessionStorage.setItem("keepstar:tab", "tab-b");
    localStorage.setItem("keepstar:nike:tab:tab-a", String(Date.now()));
    localStorage.setItem("keepstar:nike:out:cid-1", JSON.stringify({ client_id: "cid-1", text: "tab a's", tab: "tab-a", ts: 1, due: 0, tries: 0 }));
    mount();
    api.open();
    await vi.waitFor(() => expect(server.sessions).toBe(1));
    await new Promise((r) => setTimeout(r, 30));
    expect(server.posts("/api/v1/messages").length).toBe(0);
    expect(bubbles("visitor")).toEqual([]);
  });

  it("re-creates the session on 401 and retries", async () => {
    mount();
    api.open();
    await vi.waitFor(() => expect(server.sessions).toBe(1));
    let first = true;
    server.override = (req) => {
      if (req.path === "/api/v1/messages" && req.method === "POST" && first) {
        first = false;
        return json(401, { error: { code: "token_expired", message: "expired" } });
      }
    };
    type("hi");
    await vi.waitFor(() => expect(server.posts("/api/v1/messages").length).toBe(2));
    expect(server.sessions).toBe(2);
    expect(server.posts("/api/v1/messages")[1].headers.authorization).toBe("Bearer tok2");
    expect(server.posts("/api/v1/sessions")[1].body.visitor).toBe("vis_1");
  });

  it("shows a clear state when the key or origin is refused", async () => {
    server.override = (req) => (req.path === "/api/v1/sessions" ? json(403, { error: { code: "origin_not_allowed", message: "no" } }) : undefined);
    mount();
    const errors: unknown[] = [];
    api.on("error", (e) => errors.push(e));
    api.open();
    await vi.waitFor(() => expect(bubbles("system")).toEqual(["The chat is unavailable right now."]));
    expect(input().disabled).toBe(true);
    expect(errors).toEqual([{ code: "origin_not_allowed", message: "no", status: 403 }]);
  });

  it("asks for a human and shows handoff progress", async () => {
    server.conversation = "c1";
    mount();
    api.open();
    await vi.waitFor(() => expect($(".hm")!.hidden).toBe(false));
    expect($(".hm")!.textContent).toBe("Talk to a human");
    $(".hm")!.click();
    await vi.waitFor(() => expect(server.posts("/api/v1/handoff").length).toBe(1));
    expect(server.posts("/api/v1/handoff")[0].body).toEqual({ conversation: "c1" });
    await vi.waitFor(() => expect($(".hm")!.hidden).toBe(true));
    await vi.waitFor(() => expect(server.streams.length).toBe(1));
    server.lastStream.send("handoff", { state: "requested" }, "1");
    server.lastStream.send("handoff", { state: "active", operator: { name: "Anna" } }, "2");
    await vi.waitFor(() => expect(bubbles("system")).toEqual(["We have asked a person to join. Please wait a moment.", "Anna joined the chat."]));
  });

  it("answers an error event with a friendly note and the human button", async () => {
    server.conversation = "c1";
    mount();
    api.open();
    await vi.waitFor(() => expect(server.streams.length).toBe(1));
    server.lastStream.send("error", { code: "provider_unavailable", message: "upstream down", retryable: true }, "1");
    await vi.waitFor(() => expect(bubbles("system")).toEqual(["Sorry, something went wrong. You can try again or talk to a human."]));
    expect($(".hm")!.hidden).toBe(false);
  });

  it("uses Russian strings from the session config, and data-locale overrides it", async () => {
    server.config.locale = "ru";
    mount();
    api.open();
    await vi.waitFor(() => expect($(".hm")!.textContent).toBe("Позвать человека"));
    expect(input().getAttribute("placeholder")).toBe("Напишите сообщение…");
    api.destroy();
    document.body.replaceChildren();
    localStorage.clear();
    vi.restoreAllMocks();
    mount({ "data-locale": "en" });
    api.open();
    await vi.waitFor(() => expect(server.sessions).toBe(2));
    expect($(".hm")!.textContent).toBe("Talk to a human");
  });

  it("Esc closes the panel and returns focus to the launcher", async () => {
    mount();
    api.open();
    expect($(".ks")!.classList.contains("open")).toBe(true);
    press("Escape");
    expect($(".ks")!.classList.contains("open")).toBe(false);
    expect(root.activeElement).toBe($("button.l"));
  });

  it("sends quick replies and removes the chips; Details fetches the product", async () => {
    server.conversation = "c1";
    mount();
    api.open();
    await vi.waitFor(() => expect(server.streams.length).toBe(1));
    server.lastStream.send("done", {
      message_id: "a1",
      message: { id: "a1", role: "assistant", text: "Pick one", formation: { kind: "quick_replies", options: ["Sneakers", "Boots"] } },
    });
    server.lastStream.send("done", {
      message_id: "a2",
      message: { id: "a2", role: "assistant", text: "Cards", formation: { kind: "cards", layout: "list", items: [{ id: "p/7", title: "Air" }] } },
    });
    await vi.waitFor(() => expect($$(".chip").length).toBe(2));
    $$(".cd button")[0].click();
    await vi.waitFor(() => expect($(".dt .ti")!.textContent).toBe("Detail of p%2F7"));
    expect(server.requests.some((r) => r.path === "/api/v1/products/p%2F7" && r.headers.authorization === "Bearer tok1")).toBe(true);
    $$(".chip")[1].click();
    expect($$(".chip").length).toBe(0);
    await vi.waitFor(() => expect(server.posts("/api/v1/messages").map((r) => r.body.text)).toEqual(["Boots"]));
  });

  it("a formation arriving while open goes to the overlay, one from history does not; Esc closes it first", async () => {
    server.conversation = "c1";
    const tents = { kind: "cards", layout: "grid", items: [{ id: "t1", title: "Tent" }, { id: "t2", title: "Tarp" }] };
    server.history = [{ id: "h1", role: "assistant", text: "Earlier", formation: tents, status: "complete", created_at: "2024-01-01T00:00:00Z" }];
    mount();
    api.open();
    await vi.waitFor(() => expect(server.streams.length).toBe(1));
    const ov = $(".ov")!;
    expect(ov.getAttribute("role")).toBe("dialog");
    expect($(".m[data-role=assistant] .cl")!.textContent).toBe("2 products · Show");
    expect(ov.classList.contains("on")).toBe(false);

    server.lastStream.send("delta", { message_id: "a1", text: "Here you go" });
    server.lastStream.send("formation", { message_id: "a1", formation: { kind: "cards", layout: "carousel", title: "Boots", items: [{ id: "b1", title: "Boot" }] } });
    await vi.waitFor(() => expect(ov.classList.contains("on")).toBe(true));
    expect(ov.getAttribute("aria-label")).toBe("Boots");
    expect([...ov.querySelectorAll(".cd .ti")].map((e) => e.textContent)).toEqual(["Boot"]);
    expect($$(".cl").map((c) => [c.textContent, c.getAttribute("aria-expanded")])).toEqual([
      ["2 products · Show", "false"],
      ["1 product · Show", "true"],
    ]);
    // The visitor was in the composer: it keeps the focus.
    expect(root.activeElement).toBe(input());
    // `done` repeats the formation: nothing is re-rendered.
    const fe = ov.querySelector(".fs");
    server.lastStream.send("done", { message_id: "a1", message: { id: "a1", role: "assistant", text: "Here you go", formation: { kind: "cards", layout: "carousel", title: "Boots", items: [{ id: "b1", title: "Boot" }] } } });
    await vi.waitFor(() => expect($("[aria-live]")!.textContent).toBe("New reply: Here you go"));
    expect(ov.querySelector(".fs")).toBe(fe);

    press("Escape");
    expect(ov.classList.contains("on")).toBe(false);
    expect($(".ks")!.classList.contains("open")).toBe(true);
    press("Escape");
    expect($(".ks")!.classList.contains("open")).toBe(false);
    // Reopening the panel does not reopen the overlay; the compact line does, focus moving in.
    api.open();
    expect(ov.classList.contains("on")).toBe(false);
    $$(".cl")[0].click();
    expect(ov.classList.contains("on")).toBe(true);
    expect([...ov.querySelectorAll(".cd .ti")].map((e) => e.textContent)).toEqual(["Tent", "Tarp"]);
    expect(root.activeElement).toBe(ov);
  });

  it("on a narrow screen formations stay inline", async () => {
    (window as unknown as { happyDOM: { setViewport(v: { width: number }): void } }).happyDOM.setViewport({ width: 800 });
    try {
      server.conversation = "c1";
      mount();
      api.open();
      await vi.waitFor(() => expect(server.streams.length).toBe(1));
      server.lastStream.send("formation", { message_id: "a1", formation: { kind: "cards", items: [{ id: "b1", title: "Boot" }] } });
      await vi.waitFor(() => expect($$(".m[data-role=assistant] .fs .cd").length).toBe(1));
      expect($(".ov")!.classList.contains("on")).toBe(false);
    } finally {
      (window as unknown as { happyDOM: { setViewport(v: { width: number }): void } }).happyDOM.setViewport({ width: 1024 });
    }
  });

  it("reset() forgets the visitor and the conversation", async () => {
    server.conversation = "c1";
    mount();
    api.open();
    await vi.waitFor(() => expect(localStorage.getItem("keepstar:nike:conversation")).toBe('"c1"'));
    server.conversation = null;
    api.reset();
    expect(localStorage.getItem("keepstar:nike:visitor")).toBeNull();
    expect(localStorage.getItem("keepstar:nike:conversation")).toBeNull();
    await vi.waitFor(() => expect(server.sessions).toBe(2));
    expect(server.posts("/api/v1/sessions")[1].body.visitor).toBeUndefined();
  });

  it("identify() re-creates the session with the identity token", async () => {
    mount();
    api.open();
    await vi.waitFor(() => expect(server.sessions).toBe(1));
    api.identify("site-jwt");
    await vi.waitFor(() => expect(server.sessions).toBe(2));
    expect(server.posts("/api/v1/sessions")[1].body.identity).toBe("site-jwt");
  });
});
