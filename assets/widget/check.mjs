// Fails when the committed dist/ is stale (a fresh build into a temp dir must match it
// byte for byte) or when the gzip budgets are exceeded. Prints the sizes.
//
//   npm run check

import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN_JS, build, buildAdmin, gzipSize } from "./build.mjs";

export const LOADER_BUDGET = 3 * 1024;
export const TOTAL_BUDGET = 20 * 1024;
export const ADMIN_BUDGET = 4 * 1024;

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const problems = [];

const tmp = await mkdtemp(join(tmpdir(), "keepstar-widget-"));
try {
  const m = await build(tmp);
  const fresh = (await readdir(tmp)).sort();
  let committed = [];
  try {
    committed = (await readdir(dist)).sort();
  } catch {
    problems.push("dist/ is missing: run `npm run build`");
  }
  for (const f of new Set([...fresh, ...committed])) {
    if (!committed.includes(f)) problems.push(`dist/${f} is missing: run \`npm run build\``);
    else if (!fresh.includes(f)) problems.push(`dist/${f} is not produced by the build any more: run \`npm run build\``);
    else if (!(await readFile(join(tmp, f))).equals(await readFile(join(dist, f))))
      problems.push(`dist/${f} is stale: run \`npm run build\``);
  }

  const loader = gzipSize(await readFile(join(tmp, m.loader)));
  const chat = gzipSize(await readFile(join(tmp, m.chat)));
  const total = loader + chat;
  const row = (name, size, budget) =>
    console.log(`${name.padEnd(22)} ${String(size).padStart(6)} B gzip${budget ? ` / ${budget} B budget` : ""}`);
  row(m.loader, loader, LOADER_BUDGET);
  row(m.chat, chat);
  row("total", total, TOTAL_BUDGET);
  if (loader > LOADER_BUDGET) problems.push(`loader is ${loader} B gzip, over the ${LOADER_BUDGET} B budget`);
  if (total > TOTAL_BUDGET) problems.push(`widget JS is ${total} B gzip in total, over the ${TOTAL_BUDGET} B budget`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}

// The admin's script: assets/admin/admin.js is what its sources build, within its own budget.
const adminTmp = await mkdtemp(join(tmpdir(), "keepstar-admin-"));
try {
  const fresh = join(adminTmp, "admin.js");
  const size = await buildAdmin(fresh);
  console.log(`${"admin.js".padEnd(22)} ${String(size).padStart(6)} B gzip / ${ADMIN_BUDGET} B budget`);
  const committed = await readFile(ADMIN_JS).catch(() => null);
  if (!committed) problems.push("assets/admin/admin.js is missing: run `npm run build`");
  else if (!committed.equals(await readFile(fresh))) problems.push("assets/admin/admin.js is stale: run `npm run build`");
  if (size > ADMIN_BUDGET) problems.push(`admin.js is ${size} B gzip, over the ${ADMIN_BUDGET} B budget`);
} finally {
  await rm(adminTmp, { recursive: true, force: true });
}

if (problems.length) {
  for (const p of problems) console.error("error: " + p);
  process.exit(1);
}
console.log("dist/ is current and within budget");
