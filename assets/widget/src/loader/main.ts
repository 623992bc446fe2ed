// Entry of dist/widget.js: runs synchronously so document.currentScript is still set.
import { boot } from "./boot";
import { findScript } from "./config";

declare const __KS_CHAT__: string;
declare const __KS_VERSION__: string;

const script = findScript();
if (script) boot(script, { chat: __KS_CHAT__, version: __KS_VERSION__ });
else console.warn("[keepstar] no script[data-tenant] found");
