import { add, h, icon, sheet } from "../shared/dom";
import { CHAT, CLOSE } from "../shared/icons";
import { guessLocale, pickLocale } from "../shared/locale";
import { BOOT_KEY } from "../shared/types";
import type { ChatBoot, EmbedConfig, HostContext, KeepstarApi, TenantConfig } from "../shared/types";
import { createApi } from "./api";
import { readEmbedConfig } from "./config";
import LOADER_CSS from "./launcher.css";

// Only what the launcher says before the chat bundle runs; the chat labels it afterwards.
const TEXT = {
  en: ["Open chat", "Chat is unavailable. Try again"],
  ru: ["Открыть чат", "Чат недоступен. Повторить"],
};

export interface BootOptions {
  /** File name of the chat bundle under `<base>/widget/`. */
  chat: string;
  version: string;
  /** Schedules the idle load; tests pass their own. */
  idle?: (fn: () => void) => void;
}

const defaultIdle = (fn: () => void) => {
  const w = window as Window & { requestIdleCallback?: (f: () => void, o: object) => number };
  if (w.requestIdleCallback) w.requestIdleCallback(fn, { timeout: 4000 });
  else setTimeout(fn, 2500);
};

/**
 * Creates `<keepstar-widget>` (one open shadow root), the launcher and `window.Keepstar`.
 * The chat bundle is fetched on first interaction, on an API call, or when the browser is idle.
 */
export function boot(script: HTMLScriptElement, opts: BootOptions): KeepstarApi | null {
  const w = window;
  const parsed = readEmbedConfig(script);
  const why = w.Keepstar
    ? "already loaded"
    : typeof parsed === "string"
      ? parsed
      : "adoptedStyleSheets" in ShadowRoot.prototype
        ? ""
        : "browser not supported";
  if (why) return console.warn("[keepstar] " + why), null;
  const cfg = parsed as EmbedConfig;

  let cached: TenantConfig & { on?: string } = {};
  try {
    // Branding cached by the chat on an earlier visit: the launcher is right from the start.
    cached = JSON.parse(localStorage.getItem(`keepstar:${cfg.tenant}:config`)!) || {};
  } catch {
    /* no storage */
  }
  const text = TEXT[cfg.locale || pickLocale(cached.locale) || guessLocale()];
  let state: "idle" | "loading" | "ready" | "error" = "idle";

  const host = document.createElement("keepstar-widget");
  const root = host.attachShadow({ mode: "open" });
  root.adoptedStyleSheets = [sheet(LOADER_CSS)];
  const frame = h("div", { class: "ks", "data-pos": cfg.position || (cached.position === "left" ? "left" : "right") });
  root.appendChild(frame);
  const badge = h("span", { class: "bd", hidden: true, "aria-hidden": "true" });
  let launcher: HTMLButtonElement | null = null;
  if (cfg.launcher) {
    launcher = h(
      "button",
      { type: "button", class: "l", part: "launcher", title: cached.launcher_text, "aria-haspopup": "dialog", "aria-expanded": "false", "aria-label": text[0] },
      icon(CHAT, "o"),
      icon(CLOSE, "c"),
      badge,
    );
    launcher.addEventListener("click", () => api.toggle());
    launcher.addEventListener("focus", load);
    launcher.addEventListener("pointerenter", load);
    frame.appendChild(launcher);
  }
  const hex = /^#[0-9a-f]{3}([0-9a-f]{3})?$/i;
  if (hex.test(cached.color!) && hex.test(cached.on!)) {
    host.style.setProperty("--ks-b", cached.color!);
    host.style.setProperty("--ks-ob", cached.on!);
  }

  const setState = (s: typeof state) => {
    state = s;
    if (s === "error") launcher?.setAttribute("aria-label", text[1]);
    launcher?.toggleAttribute("data-error", s === "error");
  };

  const ctx: HostContext = { cfg, host, root, frame, launcher, badge, emit: (e, d) => handle.emit(e, d) };

  function fail(err?: unknown) {
    if (err) console.error("[keepstar]", err);
    setState("error");
    // A failed chat must leave nothing over the page but the launcher.
    for (const n of [...frame.childNodes]) if (n !== launcher) n.remove();
    frame.classList.remove("open");
    handle.drop();
    handle.emit("error", { code: "load_failed" });
  }

  function load() {
    if (state === "loading" || state === "ready") return;
    setState("loading");
    const s = document.createElement("script");
    s.async = true;
    s.src = `${cfg.base}/widget/${opts.chat}`;
    (s as unknown as Record<symbol, unknown>)[Symbol.for(BOOT_KEY)] = (bootChat: ChatBoot) => {
      if (state !== "loading") return;
      try {
        const ctl = bootChat(ctx);
        setState("ready");
        handle.attach(ctl);
      } catch (e) {
        fail(e);
      }
    };
    // After a successful run the hand-off above has already changed the state.
    s.onload = s.onerror = () => {
      s.remove();
      if (state === "loading") fail();
    };
    document.head.appendChild(s);
  }

  const handle = createApi(
    load,
    () => {
      host.remove();
      if (w.Keepstar === api) delete w.Keepstar;
    },
    opts.version,
  );
  const api = (w.Keepstar = handle.api);
  const mount = () => add(document.body, [host]);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });

  if (cfg.open) api.open();
  else (opts.idle || defaultIdle)(load);
  return api;
}
