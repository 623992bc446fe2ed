import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApi } from "../src/loader/api";
import { boot } from "../src/loader/boot";
import { findScript, readEmbedConfig } from "../src/loader/config";
import { BOOT_KEY, type ChatBoot, type ChatController, type EmbedConfig, type HostContext } from "../src/shared/types";

function tag(attrs: Record<string, string>, src = "https://chat.example.com/widget.js"): HTMLScriptElement {
  const s = document.createElement("script");
  s.src = src;
  for (const [k, v] of Object.entries(attrs)) s.setAttribute(k, v);
  return s;
}

describe("readEmbedConfig", () => {
  it("reads every attribute and takes the API base from the script's origin", () => {
    const cfg = readEmbedConfig(
      tag(
        { "data-tenant": " nike ", "data-key": "pk_123", "data-locale": "ru-RU", "data-position": "LEFT", "data-open": "", "data-launcher": "none" },
        "https://chat.example.com:8443/widget.js?v=2",
      ),
    );
    expect(cfg).toEqual({
      tenant: "nike",
      key: "pk_123",
      base: "https://chat.example.com:8443",
      locale: "ru",
      position: "left",
      open: true,
      launcher: false,
    });
  });

  it("defaults the optional attributes", () => {
    const cfg = readEmbedConfig(tag({ "data-tenant": "nike", "data-key": "pk_1" })) as EmbedConfig;
    expect(cfg.locale).toBeUndefined();
    expect(cfg.position).toBeUndefined();
    expect(cfg.open).toBe(false);
    expect(cfg.launcher).toBe(true);
  });

  it("ignores unknown locales and positions, and reads data-open=false as off", () => {
    const cfg = readEmbedConfig(
      tag({ "data-tenant": "t", "data-key": "k", "data-locale": "de", "data-position": "top", "data-open": "false" }),
    ) as EmbedConfig;
    expect(cfg.locale).toBeUndefined();
    expect(cfg.position).toBeUndefined();
    expect(cfg.open).toBe(false);
    expect((readEmbedConfig(tag({ "data-tenant": "t", "data-key": "k", "data-locale": "en-GB" })) as EmbedConfig).locale).toBe("en");
  });

  it("refuses a tag without tenant, key or an http(s) src", () => {
    expect(typeof readEmbedConfig(tag({ "data-key": "k" }))).toBe("string");
    expect(typeof readEmbedConfig(tag({ "data-tenant": "t" }))).toBe("string");
    const noSrc = document.createElement("script");
    noSrc.setAttribute("data-tenant", "t");
    noSrc.setAttribute("data-key", "k");
    expect(typeof readEmbedConfig(noSrc)).toBe("string");
    expect(typeof readEmbedConfig(tag({ "data-tenant": "t", "data-key": "k" }, "file:///tmp/widget.js"))).toBe("string");
  });

  it("finds the script by data-tenant when currentScript is gone", () => {
    const s = document.createElement("script");
    s.setAttribute("data-tenant", "t");
    document.body.replaceChildren(document.createElement("script"), s);
    expect(findScript()?.getAttribute("data-tenant")).toBe("t");
    document.body.replaceChildren();
    expect(findScript()).toBeNull();
  });
});

function fakeController(log: string[]): ChatController {
  const rec =
    (name: string) =>
    (...a: unknown[]) =>
      log.push(a.length ? `${name}(${a.join(",")})` : name);
  return { open: rec("open"), close: rec("close"), toggle: rec("toggle"), send: rec("send"), identify: rec("identify"), reset: rec("reset"), destroy: rec("destroy") };
}

describe("createApi", () => {
  it("queues calls until the chat attaches, then replays them in order", () => {
    const load = vi.fn();
    const { api, attach } = createApi(load, () => {}, "1.0.0");
    api.identify("jwt");
    api.send("hello");
    api.open();
    expect(load).toHaveBeenCalledTimes(3);
    const log: string[] = [];
    attach(fakeController(log));
    expect(log).toEqual(["identify(jwt)", "send(hello)", "open"]);
    api.close();
    expect(log.at(-1)).toBe("close");
  });

  it("does not load the chat for close() alone", () => {
    const load = vi.fn();
    const { api } = createApi(load, () => {}, "1");
    api.close();
    expect(load).not.toHaveBeenCalled();
  });

  it("delivers events to listeners until they unsubscribe; a throwing listener does not stop others", () => {
    const { api, emit } = createApi(() => {}, () => {}, "1");
    const seen: unknown[] = [];
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    api.on("message", () => {
      throw new Error("site bug");
    });
    const off = api.on("message", (d) => seen.push(d));
    emit("message", { text: "a" });
    off();
    emit("message", { text: "b" });
    expect(seen).toEqual([{ text: "a" }]);
    expect(err).toHaveBeenCalled();
    err.mockRestore();
  });

  it("destroy() stops everything, including a chat that attaches later", () => {
    const teardown = vi.fn();
    const { api, attach } = createApi(() => {}, teardown, "1");
    const onDestroy = vi.fn();
    api.on("destroy", onDestroy);
    api.open();
    api.destroy();
    api.destroy();
    expect(teardown).toHaveBeenCalledTimes(1);
    expect(onDestroy).toHaveBeenCalledTimes(1);
    const log: string[] = [];
    attach(fakeController(log));
    expect(log).toEqual(["destroy"]);
    api.open();
    expect(log).toEqual(["destroy"]);
  });
});

describe("boot", () => {
  let injected: HTMLScriptElement[];
  beforeEach(() => {
    injected = [];
    document.head.replaceChildren();
    document.body.replaceChildren();
    localStorage.clear();
    delete (window as { Keepstar?: unknown }).Keepstar;
    // Capture the chat <script> instead of letting the DOM fetch it.
    const orig = document.head.appendChild.bind(document.head);
    vi.spyOn(document.head, "appendChild").mockImplementation(<T extends Node>(n: T): T => {
      if (n instanceof HTMLScriptElement) {
        injected.push(n);
        return n;
      }
      return orig(n);
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    (window as { Keepstar?: { destroy(): void } }).Keepstar?.destroy();
  });

  const start = (attrs: Record<string, string> = {}, idle = vi.fn()) =>
    boot(tag({ "data-tenant": "nike", "data-key": "pk_1", ...attrs }), { chat: "chat.0123abcd.js", version: "0.1.0", idle });

  const hostOf = () => document.querySelector("keepstar-widget") as HTMLElement;

  it("renders only the custom element in the light DOM, with one open shadow root and a launcher", () => {
    const api = start();
    expect(window.Keepstar).toBe(api);
    expect(document.body.children.length).toBe(1);
    const host = hostOf();
    expect(host.children.length).toBe(0);
    const root = host.shadowRoot!;
    expect(root.mode).toBe("open");
    expect(root.adoptedStyleSheets.length).toBe(1);
    const l = root.querySelector("button.l")!;
    expect(l.getAttribute("part")).toBe("launcher");
    expect(l.getAttribute("aria-label")).toBe("Open chat");
    expect(l.querySelector("svg")).not.toBeNull();
    expect(host.hasAttribute("style")).toBe(false);
  });

  it("labels the launcher in Russian with data-locale=ru and honours data-position", () => {
    start({ "data-locale": "ru", "data-position": "left" });
    const root = hostOf().shadowRoot!;
    expect(root.querySelector("button.l")!.getAttribute("aria-label")).toBe("Открыть чат");
    expect(root.querySelector(".ks")!.getAttribute("data-pos")).toBe("left");
  });

  it("renders no launcher with data-launcher=none", () => {
    start({ "data-launcher": "none" });
    expect(hostOf().shadowRoot!.querySelector("button")).toBeNull();
  });

  it("uses branding cached by an earlier visit", () => {
    localStorage.setItem("keepstar:nike:config", JSON.stringify({ color: "#ffcc00", on: "#000", position: "left", launcher_text: "Ask us" }));
    start();
    const host = hostOf();
    expect(host.style.getPropertyValue("--ks-b")).toBe("#ffcc00");
    expect(host.style.getPropertyValue("--ks-ob")).toBe("#000");
    expect(host.shadowRoot!.querySelector(".ks")!.getAttribute("data-pos")).toBe("left");
    expect(host.shadowRoot!.querySelector("button")!.getAttribute("title")).toBe("Ask us");
  });

  it("refuses to boot twice", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    start();
    expect(start()).toBeNull();
    expect(document.querySelectorAll("keepstar-widget").length).toBe(1);
    warn.mockRestore();
  });

  it("schedules an idle load, and loads once on interaction", () => {
    const idle = vi.fn();
    start({}, idle);
    expect(idle).toHaveBeenCalledTimes(1);
    expect(injected.length).toBe(0);
    const l = hostOf().shadowRoot!.querySelector("button")!;
    l.dispatchEvent(new Event("focus"));
    l.click();
    idle.mock.calls[0][0]();
    expect(injected.length).toBe(1);
    expect(injected[0].src).toBe("https://chat.example.com/widget/chat.0123abcd.js");
    expect(injected[0].async).toBe(true);
  });

  it("hands the context to the chat bundle and replays queued API calls", () => {
    const api = start()!;
    api.send("hi");
    expect(injected.length).toBe(1);
    const log: string[] = [];
    let got: HostContext | null = null;
    const bootChat: ChatBoot = (ctx) => {
      got = ctx;
      ctx.frame.appendChild(document.createElement("div"));
      return fakeController(log);
    };
    (injected[0] as unknown as Record<symbol, (b: ChatBoot) => void>)[Symbol.for(BOOT_KEY)](bootChat);
    expect(got!.cfg.tenant).toBe("nike");
    expect(got!.root).toBe(hostOf().shadowRoot);
    expect(log).toEqual(["send(hi)"]);
    api.toggle();
    expect(log).toEqual(["send(hi)", "toggle"]);
    api.destroy();
    expect(log.at(-1)).toBe("destroy");
    expect(document.querySelector("keepstar-widget")).toBeNull();
    expect(window.Keepstar).toBeUndefined();
  });

  it("when the chat bundle fails to load, leaves only the launcher in an error state; a click retries", () => {
    const api = start()!;
    const errors: unknown[] = [];
    api.on("error", (e) => errors.push(e));
    api.open();
    const root = hostOf().shadowRoot!;
    root.querySelector(".ks")!.classList.add("open");
    root.querySelector(".ks")!.appendChild(document.createElement("div")); // a stray panel layer
    injected[0].dispatchEvent(new Event("error"));
    const l = root.querySelector("button")!;
    expect(l.hasAttribute("data-error")).toBe(true);
    expect(l.getAttribute("aria-label")).toBe("Chat is unavailable. Try again");
    expect(root.querySelector(".ks")!.children.length).toBe(1);
    expect(root.querySelector(".ks")!.classList.contains("open")).toBe(false);
    expect(errors).toEqual([{ code: "load_failed" }]);
    l.click();
    expect(injected.length).toBe(2);
  });

  it("treats a bundle that loads but never hands off as a failure, and a throwing boot too", () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const api = start()!;
    api.open();
    injected[0].dispatchEvent(new Event("load"));
    const l = hostOf().shadowRoot!.querySelector("button")!;
    expect(l.hasAttribute("data-error")).toBe(true);
    l.click();
    (injected[1] as unknown as Record<symbol, (b: ChatBoot) => void>)[Symbol.for(BOOT_KEY)](() => {
      throw new Error("boom");
    });
    expect(l.hasAttribute("data-error")).toBe(true);
    err.mockRestore();
  });

  it("data-open loads the chat and queues open()", () => {
    start({ "data-open": "true" });
    expect(injected.length).toBe(1);
    const log: string[] = [];
    (injected[0] as unknown as Record<symbol, (b: ChatBoot) => void>)[Symbol.for(BOOT_KEY)](() => fakeController(log));
    expect(log).toEqual(["open"]);
  });
});
