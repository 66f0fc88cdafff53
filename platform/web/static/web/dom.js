// Small DOM and formatting helpers shared by the client chat and the operator console.
// Every piece of user text goes through textContent or createTextNode, never innerHTML.

const SVG_NS = "http://www.w3.org/2000/svg";

/** el("div", {class: "x", "aria-label": "y", onclick: fn}, child, "text", ...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "text") {
      node.textContent = value;
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** Icons drawn with DOM APIs (no markup strings). */
const ICONS = {
  send: ["M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z"],
  clip: ["M16.5 6.5 8.9 14.1a2 2 0 0 0 2.8 2.8l7.8-7.8a4 4 0 0 0-5.7-5.7l-8 8a6 6 0 0 0 8.5 8.5l6.4-6.4"],
  check: ["M4.5 12.5l4.5 4.5L19.5 6.5"],
  checks: ["M1.5 12.5 6 17 16.5 6.5", "M11 16l1 1L22.5 6.5"],
  clock: ["M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z", "M12 7v5l3 2"],
  close: ["M6 6l12 12", "M18 6 6 18"],
  reply: ["M10 8 4 13l6 5", "M4 13h10a6 6 0 0 1 6 6"],
  edit: ["M4 20h4L19 9l-4-4L4 16z", "M13.5 6.5l4 4"],
  trash: ["M5 7h14", "M9 7V4h6v3", "M7 7l1 13h8l1-13"],
  copy: ["M9 9h11v11H9z", "M5 15H4V4h11v1"],
  more: ["M12 5.5h.01", "M12 12h.01", "M12 18.5h.01"],
  file: ["M14 3H6v18h12V7z", "M14 3v4h4"],
  down: ["M6 9l6 6 6-6"],
  back: ["M15 5l-7 7 7 7"],
  chat: ["M4 5h16v11H9l-5 4z"],
  user: ["M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z", "M4 21a8 8 0 0 1 16 0"],
  note: ["M5 4h14v11l-5 5H5z", "M14 20v-5h5"],
  warn: ["M12 3 2 21h20z", "M12 10v5", "M12 18h.01"],
  retry: ["M4 12a8 8 0 1 0 3-6.2", "M4 4v4h4"],
  bell: ["M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z", "M10 20a2 2 0 0 0 4 0"],
};

export function icon(name, extraClass = "") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", `icon icon-${name} ${extraClass}`.trim());
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

const TIME = new Intl.DateTimeFormat("ru-RU", { hour: "2-digit", minute: "2-digit" });
const DAY = new Intl.DateTimeFormat("ru-RU", { day: "numeric", month: "long" });
const DAY_YEAR = new Intl.DateTimeFormat("ru-RU", { day: "numeric", month: "long", year: "numeric" });
const FULL = new Intl.DateTimeFormat("ru-RU", { dateStyle: "long", timeStyle: "short" });

export function parseTime(value) {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? new Date() : date;
}

export function formatTime(value) {
  return TIME.format(parseTime(value));
}

const SHORT = new Intl.DateTimeFormat("ru-RU", { dateStyle: "short", timeStyle: "short" });

/** "22.11.2026, 16:40" */
export function formatShort(value) {
  return SHORT.format(parseTime(value));
}

export function formatFull(value) {
  return FULL.format(parseTime(value));
}

export function dayKey(value) {
  const d = parseTime(value);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** "Сегодня", "Вчера", "22 ноября", "22 ноября 2025 г." */
export function dayLabel(value, now = new Date()) {
  const d = parseTime(value);
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const that = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const days = Math.round((today - that) / 86400000);
  if (days === 0) return "Сегодня";
  if (days === 1) return "Вчера";
  return d.getFullYear() === now.getFullYear() ? DAY.format(d) : DAY_YEAR.format(d);
}

/** A short "when" for lists: time today, "Вчера", else a date. */
export function shortWhen(value, now = new Date()) {
  const label = dayLabel(value, now);
  if (label === "Сегодня") return formatTime(value);
  if (label === "Вчера") return label;
  const d = parseTime(value);
  return d.toLocaleDateString("ru-RU", { day: "numeric", month: "short" });
}

/** "smooth", or "auto" for someone who asked the system for less motion (prefers-reduced-motion). */
export function scrollMotion() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} Б`;
  const units = ["КБ", "МБ", "ГБ"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value < 10 ? 1 : 0;
  return `${value.toFixed(digits).replace(".", ",")} ${units[unit]}`;
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/** Russian plural: plural(3, "сообщение", "сообщения", "сообщений"). */
export function plural(n, one, few, many) {
  const a = Math.abs(n) % 100;
  const b = a % 10;
  if (a > 10 && a < 20) return many;
  if (b > 1 && b < 5) return few;
  if (b === 1) return one;
  return many;
}

/** Appends text to a node, turning http(s) links into anchors (built with DOM APIs). */
export function appendLinkified(node, text, { paths = false } = {}) {
  // paths: also this site's own pages ("/policy", "/me") — for the company's and the bot's texts
  const re = paths
    ? /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]|(?<=^|[\s(«"])\/[a-z][a-z0-9_\/-]*[a-z0-9]/g
    : /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  let last = 0;
  for (const match of text.matchAll(re)) {
    if (match.index > last) node.append(document.createTextNode(text.slice(last, match.index)));
    const a = document.createElement("a");
    a.href = match[0];
    a.textContent = match[0];
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    node.append(a);
    last = match.index + match[0].length;
  }
  if (last < text.length) node.append(document.createTextNode(text.slice(last)));
}

/** Initials for an avatar: "Анна Петрова" -> "АП". */
export function initials(name) {
  const parts = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  return parts.slice(0, 2).map((p) => p[0].toUpperCase()).join("");
}

/** A stable hue for an avatar from a string. */
export function hueOf(text) {
  let h = 2166136261;
  for (const ch of String(text || "")) h = Math.imul(h ^ ch.codePointAt(0), 16777619);
  return (h >>> 0) % 360;
}

/** A modal confirm built on <dialog>; resolves true or false. */
export function confirmDialog(text, okLabel = "Да", danger = false) {
  return new Promise((resolve) => {
    const ok = el("button", { type: "button", class: danger ? "primary danger-fill" : "primary", text: okLabel });
    const cancel = el("button", { type: "button", text: "Отмена" });
    const dialog = el(
      "dialog",
      { class: "okno-dialog", "aria-label": text },
      el("p", { text }),
      el("div", { class: "dialog-actions" }, cancel, ok),
    );
    const done = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    ok.addEventListener("click", () => done(true));
    cancel.addEventListener("click", () => done(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    ok.focus();
  });
}

/** A transient notice at the bottom of a container. */
export function toast(container, text, kind = "error", ms = 5000) {
  // the same notice twice at once shows once (a burst of rate_limited errors, say)
  for (const shown of container.querySelectorAll(".toast:not(.toast-out)")) {
    if (shown.textContent === text) return shown;
  }
  while (container.querySelectorAll(".toast:not(.toast-out)").length >= 3) {
    const oldest = container.querySelector(".toast:not(.toast-out)");
    oldest.classList.add("toast-out");
    setTimeout(() => oldest.remove(), 400);
  }
  const node = el("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  container.append(node);
  setTimeout(() => node.classList.add("toast-out"), ms);
  setTimeout(() => node.remove(), ms + 400);
  return node;
}

export const ERROR_TEXT = {
  invalid_frame: "Сообщение не принято: проверьте текст.",
  too_large: "Слишком большое сообщение.",
  rate_limited: "Слишком часто. Подождите немного и попробуйте снова.",
  not_found: "Сообщение или диалог не найдены.",
  forbidden: "Это действие вам недоступно.",
  edit_window: "Изменить или удалить можно только своё недавнее сообщение.",
  conflict: "Кто-то уже сделал это раньше вас.",
  unavailable: "Сервер временно недоступен, сообщение не сохранено. Попробуйте ещё раз.",
  consent_required: "Сначала нужно согласие клиента на обработку персональных данных: предложите его.",
  invalid_value: "Проверьте значение.",
  internal: "Ошибка на сервере. Ничего не изменилось, попробуйте ещё раз.",
};

// For these the server's own message says exactly what is wrong (in Russian).
const SERVER_WORDS = new Set(["invalid_value", "edit_window", "conflict", "forbidden", "not_found", "consent_required"]);

export function errorText(frame) {
  if (SERVER_WORDS.has(frame.code) && frame.message && /[а-яё]/i.test(frame.message)) {
    return frame.message.charAt(0).toUpperCase() + frame.message.slice(1);
  }
  return ERROR_TEXT[frame.code] || frame.message || "Что-то пошло не так.";
}
