// `<form data-upload>`: sends the file with XMLHttpRequest so the form's `<progress>` shows the
// upload, then goes to the preview the server names. Without this script the form posts as usual
// and the server redirects to the same preview. Text shown comes from the page's own attributes
// (`data-failed`, `data-checking`) or the server's error message, always as textContent.

type Answer = { next?: string; error?: { message?: string } };

function parse(text: string): Answer {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" ? (v as Answer) : {};
  } catch {
    return {};
  }
}

/** A same-origin path to go to, or null. */
function sameOrigin(next: string | undefined): string | null {
  if (!next) return null;
  const url = new URL(next, location.href);
  return url.origin === location.origin ? url.href : null;
}

function enhance(form: HTMLFormElement): void {
  const box = form.querySelector<HTMLElement>("[data-upload-progress]");
  const bar = form.querySelector<HTMLProgressElement>("progress");
  const said = form.querySelector<HTMLElement>("[data-upload-status]");
  const error = form.querySelector<HTMLElement>("[data-upload-error]");
  const file = form.querySelector<HTMLInputElement>("input[type=file]");
  const submit = form.querySelector<HTMLButtonElement>("button[type=submit], button:not([type])");
  let busy = false;

  const fail = (message: string) => {
    busy = false;
    if (submit) submit.disabled = false;
    if (said) said.textContent = "";
    if (error) {
      error.textContent = message;
      error.hidden = false;
    }
    if (file) {
      file.setAttribute("aria-invalid", "true");
      if (error?.id) {
        const ids = (file.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== error.id);
        file.setAttribute("aria-describedby", [...ids, error.id].join(" "));
      }
      file.focus();
    }
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (busy) return;
    busy = true;
    if (submit) submit.disabled = true;
    if (error) error.hidden = true;
    if (box) box.hidden = false;
    if (bar) {
      bar.max = 1;
      bar.value = 0;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (p) => {
      if (bar && p.lengthComputable && p.total > 0) {
        bar.max = p.total;
        bar.value = p.loaded;
      }
    });
    xhr.upload.addEventListener("load", () => {
      if (bar) bar.value = bar.max;
      if (said) said.textContent = form.dataset.checking || "";
    });
    xhr.addEventListener("load", () => {
      const answer = parse(xhr.responseText);
      const next = xhr.status < 300 ? sameOrigin(answer.next) : null;
      if (next) {
        if (bar) bar.value = bar.max;
        location.assign(next);
      } else {
        fail(answer.error?.message || form.dataset.failed || "");
      }
    });
    xhr.addEventListener("error", () => fail(form.dataset.failed || ""));
    xhr.addEventListener("abort", () => fail(form.dataset.failed || ""));
    xhr.send(new FormData(form));
  });
}

export function uploadForms(doc: Document): void {
  for (const form of doc.querySelectorAll<HTMLFormElement>("form[data-upload]")) enhance(form);
}
