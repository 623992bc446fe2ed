// Builds dist/: the chat bundle first (its name carries a hash of its content), then the
// loader with that name compiled in, then manifest.json. Deterministic: the same sources
// and the same pinned esbuild give the same bytes (check.mjs relies on it).
//
//   node build.mjs [OUT_DIR]     (default: dist)

import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

export const gzipSize = (buf) => gzipSync(buf, { level: 9 }).length;

/** `import css from "./x.css"` gives the file's minified text (for a constructed sheet). */
const cssText = {
  name: "css-text",
  setup(b) {
    b.onLoad({ filter: /\.css$/ }, async (args) => {
      const r = await esbuild.transform(await readFile(args.path, "utf8"), {
        loader: "css",
        minify: true,
        // No vendor-prefix or nesting rewrites: the CSS is written for the browsers we target.
        target: ["chrome91", "firefox101", "safari16.4"],
      });
      return { contents: r.code.trim(), loader: "text" };
    });
  },
};

async function bundle(entry, define = {}) {
  const r = await esbuild.build({
    absWorkingDir: here,
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "iife",
    platform: "browser",
    target: ["es2020", "chrome91", "firefox101", "safari16.4"],
    legalComments: "none",
    // ASCII output: the bytes decode the same whatever charset the host page uses.
    charset: "ascii",
    define,
    // Statements labelled TEST are test hooks (counters the unit tests read): not shipped.
    dropLabels: ["TEST"],
    plugins: [cssText],
    write: false,
    logLevel: "warning",
  });
  return Buffer.from(r.outputFiles[0].contents);
}

/** Builds into `outDir` and returns the manifest. */
export async function build(outDir) {
  const pkg = JSON.parse(await readFile(join(here, "package.json"), "utf8"));
  const chat = await bundle("src/chat/main.ts");
  const chatName = `chat.${createHash("sha256").update(chat).digest("hex").slice(0, 8)}.js`;
  const loader = await bundle("src/loader/main.ts", {
    __KS_CHAT__: JSON.stringify(chatName),
    __KS_VERSION__: JSON.stringify(pkg.version),
  });
  const manifest = { loader: "widget.js", chat: chatName, loader_gzip: gzipSize(loader), chat_gzip: gzipSize(chat) };

  await mkdir(outDir, { recursive: true });
  for (const f of await readdir(outDir)) if (/^chat\.[0-9a-f]{8}\.js$/.test(f) && f !== chatName) await rm(join(outDir, f));
  await writeFile(join(outDir, "widget.js"), loader);
  await writeFile(join(outDir, chatName), chat);
  await writeFile(join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

/** The admin's script: assets/admin/src/main.ts, committed as assets/admin/admin.js (the server's URL carries its hash). */
export const ADMIN_JS = join(here, "../admin/admin.js");

/** Builds the admin's script into `file`; returns its gzip size. */
export async function buildAdmin(file = ADMIN_JS) {
  const js = await bundle("../admin/src/main.ts");
  await writeFile(file, js);
  return gzipSize(js);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const out = resolve(here, process.argv[2] || "dist");
  const m = await build(out);
  console.log(`built ${out}: widget.js ${m.loader_gzip} B gzip, ${m.chat} ${m.chat_gzip} B gzip`);
  if (!process.argv[2]) console.log(`built ${ADMIN_JS}: ${await buildAdmin()} B gzip`);
}
