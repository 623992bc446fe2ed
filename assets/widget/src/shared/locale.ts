import type { Locale } from "./types";

/** Maps any language tag to a supported locale: ru* is Russian, everything else English. */
export function pickLocale(tag: string | null | undefined): Locale | undefined {
  if (!tag) return undefined;
  return /^ru\b/i.test(tag.trim()) ? "ru" : /^en\b/i.test(tag.trim()) ? "en" : undefined;
}

/** The visitor's locale when the embed and tenant say nothing. */
export function guessLocale(doc: Document = document): Locale {
  return pickLocale(doc.documentElement.lang) || pickLocale(navigator.language) || "en";
}
