import type { Locale } from "../shared/types";

const en = {
  lang: "en",
  openChat: "Open chat",
  unread: "unread",
  title: "Chat",
  close: "Close chat",
  placeholder: "Type a message…",
  message: "Message",
  send: "Send",
  human: "Talk to a human",
  reconnecting: "Reconnecting…",
  offline: "You are offline. Messages will be sent when the connection is back.",
  queued: "Waiting to send",
  failed: "Not sent. Tap to retry",
  sending: "Sending…",
  typing: "Typing…",
  earlier: "Show earlier messages",
  details: "Details",
  open: "Open",
  back: "Back",
  prev: "Previous",
  next: "Next",
  rating: "Rating {n} out of 5",
  detailFailed: "Could not load the details.",
  unavailable: "The chat is unavailable right now.",
  error: "Sorry, something went wrong. You can try again or talk to a human.",
  rateLimited: "You are sending messages too fast. Try again in {n} s.",
  handoffRequested: "We have asked a person to join. Please wait a moment.",
  handoffActive: "{name} joined the chat.",
  handoffActiveAnon: "A person joined the chat.",
  handoffEnded: "The person left the chat. The assistant will answer again.",
  operator: "Operator",
  replied: "New reply: {text}",
  show: "Show",
  hide: "Close",
  /** Plural forms by Intl.PluralRules category. */
  products: { one: "{n} product", other: "{n} products" } as Record<string, string>,
  compare: "Compare {n}",
};

export type Strings = typeof en;

const ru: Strings = {
  lang: "ru",
  openChat: "Открыть чат",
  unread: "непрочитанных",
  title: "Чат",
  close: "Закрыть чат",
  placeholder: "Напишите сообщение…",
  message: "Сообщение",
  send: "Отправить",
  human: "Позвать человека",
  reconnecting: "Переподключение…",
  offline: "Нет соединения. Сообщения отправятся, когда связь вернётся.",
  queued: "Ожидает отправки",
  failed: "Не отправлено. Нажмите, чтобы повторить",
  sending: "Отправка…",
  typing: "Печатает…",
  earlier: "Показать ранние сообщения",
  details: "Подробнее",
  open: "Открыть",
  back: "Назад",
  prev: "Назад",
  next: "Вперёд",
  rating: "Рейтинг {n} из 5",
  detailFailed: "Не удалось загрузить подробности.",
  unavailable: "Чат сейчас недоступен.",
  error: "Извините, что-то пошло не так. Попробуйте ещё раз или позовите человека.",
  rateLimited: "Слишком много сообщений подряд. Повторите через {n} с.",
  handoffRequested: "Мы позвали сотрудника. Подождите немного.",
  handoffActive: "{name} подключился к чату.",
  handoffActiveAnon: "Сотрудник подключился к чату.",
  handoffEnded: "Сотрудник вышел из чата. Снова отвечает ассистент.",
  operator: "Оператор",
  replied: "Новый ответ: {text}",
  show: "Показать",
  hide: "Закрыть",
  products: { one: "{n} товар", few: "{n} товара", many: "{n} товаров", other: "{n} товара" },
  compare: "Сравнение: {n}",
};

export const STRINGS: Record<Locale, Strings> = { en, ru };

/** Fills `{name}` placeholders. */
export const fmt = (s: string, vars: Record<string, string | number>) =>
  s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));

/** "4 products" / «4 товара» (Intl.PluralRules picks the form). */
export const products = (n: number, t: Strings) => fmt(t.products[new Intl.PluralRules(t.lang).select(n)] || t.products.other, { n });
