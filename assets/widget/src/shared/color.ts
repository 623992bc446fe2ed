// Brand colour parsing and WCAG auto-contrast (black or white text).

export type RGB = [number, number, number];

/** Parses #rgb, #rrggbb and rgb()/rgba(); anything else is null. */
export function parseColor(input: string | null | undefined): RGB | null {
  const s = (input || "").trim().toLowerCase();
  let m = /^#([0-9a-f]{3})$/.exec(s);
  if (m) return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16)) as RGB;
  m = /^#([0-9a-f]{6})$/.exec(s);
  if (m) return [0, 2, 4].map((i) => parseInt(m![1].slice(i, i + 2), 16)) as RGB;
  m = /^rgba?\(\s*(\d{1,3})[\s,]+(\d{1,3})[\s,]+(\d{1,3})/.exec(s);
  if (m) {
    const c = [m[1], m[2], m[3]].map(Number) as RGB;
    if (c.every((v) => v <= 255)) return c;
  }
  return null;
}

/** Relative luminance per WCAG 2.x. */
export function luminance([r, g, b]: RGB): number {
  const f = (v: number) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}

/** The text colour (#000 or #fff) with the higher contrast ratio on `bg`. */
export function contrastText(bg: RGB): "#000" | "#fff" {
  const l = luminance(bg);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000" : "#fff";
}

/** Normalises a colour to #rrggbb (safe to put into CSS), or null. */
export function toHex(c: RGB): string {
  return "#" + c.map((v) => v.toString(16).padStart(2, "0")).join("");
}
