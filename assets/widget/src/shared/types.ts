// Types shared by the loader and the chat bundle (erased at build time).

export type Locale = "en" | "ru";
export type Position = "left" | "right";

/** What the embedding `<script>` tag says. */
export interface EmbedConfig {
  tenant: string;
  key: string;
  /** API base: the script's own origin. */
  base: string;
  locale?: Locale;
  position?: Position;
  open: boolean;
  launcher: boolean;
}

/** Tenant configuration returned by POST /api/v1/sessions. */
export interface TenantConfig {
  title?: string;
  greeting?: string;
  color?: string;
  position?: string;
  locale?: string;
  logo_url?: string | null;
  launcher_text?: string | null;
}

export type Listener = (data?: unknown) => void;

/** What the loader hands to the chat bundle. */
export interface HostContext {
  cfg: EmbedConfig;
  host: HTMLElement;
  root: ShadowRoot;
  /** The wrapper inside the shadow root (class "open" while the panel is open, data-pos). */
  frame: HTMLElement;
  /** The launcher button (null with data-launcher="none"); the chat keeps its labels current. */
  launcher: HTMLButtonElement | null;
  /** The unread badge inside the launcher. */
  badge: HTMLElement;
  emit(event: string, data?: unknown): void;
}

/** The chat bundle's side of the public API. */
export interface ChatController {
  open(): void;
  close(): void;
  toggle(): void;
  send(text: string): void;
  identify(token: string): void;
  reset(): void;
  destroy(): void;
}

export type ChatBoot = (ctx: HostContext) => ChatController;

/** The global `window.Keepstar`. */
export interface KeepstarApi extends ChatController {
  on(event: string, fn: Listener): () => void;
  version: string;
}

declare global {
  interface Window {
    Keepstar?: KeepstarApi;
  }
}

/** The symbol under which the loader puts its hand-off function on the chat `<script>` element. */
export const BOOT_KEY = "keepstar.boot";
