// The tenant page's preview: the launcher takes the brand colour as it is typed, through the
// custom properties the widget reads (CSSOM, no inline style), with black or white text,
// whichever contrasts more. Without this the preview shows the saved colour.

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;

/** The relative luminance of an sRGB channel (WCAG 2). */
function channel(c: number): number {
  const v = c / 255;
  return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** Black or white, whichever reads better on `hex`. */
export function textOn(hex: string): string {
  let h = hex.slice(1);
  if (h.length === 3) h = [...h].map((c) => c + c).join("");
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
  const l = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000" : "#fff";
}

export function brandPreview(doc: Document): void {
  const color = doc.getElementById("f-color");
  if (!(color instanceof HTMLInputElement)) return;
  const root = doc.documentElement.style;
  color.addEventListener("input", () => {
    const v = color.value.trim();
    if (HEX.test(v)) {
      root.setProperty("--keepstar-color", v);
      root.setProperty("--keepstar-on-color", textOn(v));
    } else {
      root.removeProperty("--keepstar-color");
      root.removeProperty("--keepstar-on-color");
    }
  });
}
