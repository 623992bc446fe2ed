import { pickLocale } from "../shared/locale";
import type { EmbedConfig } from "../shared/types";

/** The embedding script: `document.currentScript`, else the first `script[data-tenant]`. */
export function findScript(doc: Document = document): HTMLScriptElement | null {
  const cur = doc.currentScript;
  if (cur instanceof HTMLScriptElement && cur.hasAttribute("data-tenant")) return cur;
  return doc.querySelector<HTMLScriptElement>("script[data-tenant]");
}

const truthy = (v: string | null) => v != null && !/^(false|0|no|off)$/i.test(v.trim());

/** Reads the embed attributes; a string (the reason) when the tag cannot work. */
export function readEmbedConfig(script: HTMLScriptElement): EmbedConfig | string {
  const attr = (n: string) => script.getAttribute("data-" + n);
  const tenant = (attr("tenant") || "").trim();
  const key = (attr("key") || "").trim();
  let base = "";
  try {
    base = new URL(script.src).origin;
  } catch {
    /* reported below */
  }
  if (!tenant || !key || !/^https?:/.test(base)) return "needs data-tenant, data-key and an http(s) src";
  const pos = (attr("position") || "").trim().toLowerCase();
  return {
    tenant,
    key,
    base,
    locale: pickLocale(attr("locale")),
    position: pos === "left" || pos === "right" ? pos : undefined,
    open: truthy(attr("open")),
    launcher: (attr("launcher") || "").trim().toLowerCase() !== "none",
  };
}
