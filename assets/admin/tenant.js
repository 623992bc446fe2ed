// The tenant pages' live parts; everything works without them.
// - The preview's launcher takes the brand colour as it is typed (a CSSOM custom property the
//   widget reads; no inline style), with black or white text, whichever contrasts more.
// - "Copy" buttons copy the textarea they name.
(() => {
  "use strict";
  const color = document.getElementById("f-color");
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
  const channel = (c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const onColor = (value) => {
    let h = value.slice(1);
    if (h.length === 3) h = [...h].map((c) => c + c).join("");
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
    const l = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000" : "#fff";
  };
  if (color) {
    const root = document.documentElement.style;
    const show = () => {
      const v = color.value.trim();
      if (hex.test(v)) {
        root.setProperty("--keepstar-color", v);
        root.setProperty("--keepstar-on-color", onColor(v));
      } else {
        root.removeProperty("--keepstar-color");
        root.removeProperty("--keepstar-on-color");
      }
    };
    color.addEventListener("input", show);
  }
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.value);
        button.textContent = button.dataset.copied;
      } catch {
        source.select();
      }
      setTimeout(() => (button.textContent = label), 2000);
    });
  }
})();
