// `<button data-copy="#selector" hidden>`: copies the text of the element the selector names
// (an input's or textarea's value) to the clipboard. The button is shown only when this script
// runs; `data-copied` is what it says once done (in the page's language).

function textOf(el: Element): string {
  return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ? el.value : (el.textContent ?? "");
}

/** Selects the element's text, so a failed copy still leaves it ready for Ctrl+C. */
function select(el: Element): void {
  if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
    el.select();
    return;
  }
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = getSelection();
  sel?.removeAllRanges();
  sel?.addRange(range);
}

/** The polite live region beside the button, made once. */
function status(button: HTMLElement): HTMLElement {
  const next = button.nextElementSibling;
  if (next instanceof HTMLElement && next.dataset.copyStatus !== undefined) return next;
  const el = document.createElement("span");
  el.setAttribute("role", "status");
  el.dataset.copyStatus = "";
  el.className = "copy-status";
  button.after(el);
  return el;
}

export function copyButtons(doc: Document): void {
  for (const b of doc.querySelectorAll<HTMLButtonElement>("button[data-copy]")) b.hidden = false;
  doc.addEventListener("click", async (e) => {
    const button = e.target instanceof Element ? e.target.closest<HTMLButtonElement>("button[data-copy]") : null;
    if (!button) return;
    e.preventDefault();
    const source = doc.querySelector(button.dataset.copy || "");
    if (!source) return;
    select(source);
    let done = false;
    try {
      await navigator.clipboard.writeText(textOf(source));
      done = true;
    } catch {
      // No clipboard API (an insecure context) or no permission: the text stays selected.
      done = doc.execCommand?.("copy") ?? false;
    }
    status(button).textContent = done ? button.dataset.copied || "" : "";
  });
}
