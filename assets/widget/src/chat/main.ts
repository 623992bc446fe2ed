// Entry of dist/chat.<hash>.js, a classic script (IIFE) that the loader inserts. It hands
// its boot function to the loader through a symbol-keyed property on its own <script>
// element, so the page gets no global besides window.Keepstar.
import { BOOT_KEY, type ChatBoot } from "../shared/types";
import { Chat } from "./app";

const boot: ChatBoot = (ctx) => new Chat(ctx);
const me = document.currentScript as (HTMLScriptElement & Record<symbol, (b: ChatBoot) => void>) | null;
const hand = me?.[Symbol.for(BOOT_KEY)];
if (typeof hand === "function") hand(boot);
else console.warn("[keepstar] chat bundle loaded without the loader");
