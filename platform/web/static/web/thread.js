// The message thread: bubbles ordered by seq, date separators, ticks, replies, attachments,
// bot buttons, optimistic (pending) messages, paging up, the "new messages" pill and the
// message menu. Shared by the client chat and the operator console.
// Messages are upserted by seq and a newer version replaces an older one, so frames that
// arrive twice (resume after a reconnect, several tabs) never double anything.

import { appendLinkified, dayKey, dayLabel, el, formatBytes, formatFull, formatTime, icon, parseTime, plural, scrollMotion } from "./dom.js";
import { openMenu } from "./menu.js";

const GROUP_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 240;
const MAX_IMAGE_W = 420;
const TOUCH = window.matchMedia("(hover: none)");
const PLACEHOLDERS = { tel: "+7 900 000-00-00", email: "name@example.ru", textarea: "Ваш отзыв" };
const AUTOCOMPLETE = { name: "given-name", phone: "tel", email: "email", city: "address-level2" };
const MAX_IMAGE_H = 360;
const DAY_CHIP_IDLE_MS = 1200;
const STUCK_PX = 16; // the chip's sticky offset (okno.css, .day) and a little more

export class Thread {
  /**
   * @param {HTMLElement} scroller  the scrolling element
   * @param {HTMLElement} list      an <ol> inside it
   * @param {object} options
   *   side(msg) -> "out" | "in" | "center"
   *   isOwn(msg) -> whether the viewer may edit/delete it (the edit window is checked here)
   *   authorLabel(author) -> string
   *   editWindowSeconds, pill (HTMLElement), onReply, onEdit, onDelete, onButton, onRetry,
   *   messageItems(msg, anchor) (more entries for a message's menu),
   *   onLoadOlder() -> Promise<boolean hasMore>, onSeen(seq), onUnread(count), showTicks(msg)
   */
  constructor(scroller, list, options) {
    this.scroller = scroller;
    this.list = list;
    this.o = options;
    this.messages = new Map(); // seq -> {msg, node}
    this.order = []; // sorted seqs
    this.pending = new Map(); // client_id -> {msg, node, state}
    this.otherReadSeq = 0;
    this.unread = new Set();
    this.hasMore = false;
    this.loadingOlder = false;
    this.seenSeq = 0;
    this.formDrafts = new Map(); // seq -> what the client has typed into a bot's form
    this.pill = options.pill || null;
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    document.addEventListener("visibilitychange", () => this.checkSeen());
    window.addEventListener("focus", () => this.checkSeen());
    if (this.pill) this.pill.addEventListener("click", () => this.scrollToBottom(true));
    // A banner or the keyboard taking height must not hide the newest messages: a thread
    // read at its bottom stays at its bottom when it gets shorter.
    new ResizeObserver(() => {
      if (this.stickToBottom) this.scrollToBottom(false);
    }).observe(this.scroller);
    this.daysTimer = 0;
  }

  // ---- state -------------------------------------------------------------------------------

  clear() {
    this.messages.clear();
    this.order = [];
    this.pending.clear();
    this.unread.clear();
    this.otherReadSeq = 0;
    this.seenSeq = 0;
    this.hasMore = false;
    this.list.replaceChildren();
    this.updatePill();
  }

  get maxSeq() {
    return this.order.length ? this.order[this.order.length - 1] : 0;
  }

  get minSeq() {
    return this.order.length ? this.order[0] : 0;
  }

  get(seq) {
    return this.messages.get(seq)?.msg || null;
  }

  /** Inserts or updates messages (sorted by seq). live: they just arrived, not history. */
  upsertMany(messages, { live = false, prepend = false } = {}) {
    if (!messages.length) return;
    const wasAtBottom = this.atBottom();
    const before = this.scroller.scrollHeight;
    const top = this.scroller.scrollTop;
    let mineAdded = false;
    for (const msg of messages) {
      const result = this.upsertOne(msg);
      if (result === "new" && live) {
        if (this.o.side(msg) === "out") mineAdded = true;
        else if (this.o.side(msg) === "in" && !(wasAtBottom && this.visible())) this.unread.add(msg.seq);
      }
    }
    this.relayout();
    if (prepend) {
      this.scroller.scrollTop = top + (this.scroller.scrollHeight - before);
    } else if (wasAtBottom || mineAdded) {
      this.scrollToBottom(false);
    }
    this.updatePill();
    this.checkSeen();
  }

  upsert(msg, opts) {
    this.upsertMany([msg], opts);
  }

  upsertOne(msg) {
    if (msg.client_id && this.pending.has(msg.client_id)) {
      this.pending.get(msg.client_id).node.remove();
      this.pending.delete(msg.client_id);
    }
    const existing = this.messages.get(msg.seq);
    if (existing) {
      if ((existing.msg.version || 0) >= (msg.version || 0)) return "old";
      const node = this.render(msg);
      existing.node.replaceWith(node);
      existing.msg = msg;
      existing.node = node;
      return "updated";
    }
    const node = this.render(msg);
    const index = this.insertIndex(msg.seq);
    const nextSeq = this.order[index];
    this.order.splice(index, 0, msg.seq);
    this.messages.set(msg.seq, { msg, node });
    if (nextSeq !== undefined) {
      this.list.insertBefore(node, this.messages.get(nextSeq).node);
    } else {
      const firstPending = this.pending.values().next().value;
      if (firstPending) this.list.insertBefore(node, firstPending.node);
      else this.list.append(node);
    }
    return "new";
  }

  insertIndex(seq) {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.order[mid] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** An optimistic message shown with a clock until its ack. */
  addPending(msg) {
    const entry = { msg, node: null, state: "sending" };
    entry.node = this.render(msg, entry);
    this.pending.set(msg.client_id, entry);
    this.list.append(entry.node);
    this.relayout();
    this.scrollToBottom(true);
  }

  /** ack: the message is stored; keep the bubble until its message frame replaces it. */
  ackPending(clientId, seq) {
    const entry = this.pending.get(clientId);
    if (!entry) return;
    if (this.messages.has(seq)) {
      entry.node.remove();
      this.pending.delete(clientId);
      this.relayout();
      return;
    }
    entry.state = "sent";
    entry.msg = { ...entry.msg, seq };
    const node = this.render(entry.msg, entry);
    entry.node.replaceWith(node);
    entry.node = node;
  }

  failPending(clientId, reason) {
    const entry = this.pending.get(clientId);
    if (!entry) return false;
    entry.state = "failed";
    entry.reason = reason;
    const node = this.render(entry.msg, entry);
    entry.node.replaceWith(node);
    entry.node = node;
    return true;
  }

  retryPending(clientId) {
    const entry = this.pending.get(clientId);
    if (!entry) return null;
    entry.state = "sending";
    const node = this.render(entry.msg, entry);
    entry.node.replaceWith(node);
    entry.node = node;
    return entry.msg;
  }

  /** Pending messages not yet acknowledged: sent again after a reconnect (same client_id). */
  unacked() {
    return [...this.pending.values()].filter((e) => e.state === "sending").map((e) => e.msg);
  }

  /** Messages to the viewer after ``seq`` (what it has read, as the server knows it) count as
   * unread while the thread is not on screen: a page opened later still shows the badge. */
  markUnreadAfter(seq) {
    if (this.visible()) return;
    for (const seqValue of this.order) {
      if (seqValue > seq && this.o.side(this.messages.get(seqValue).msg) === "in") this.unread.add(seqValue);
    }
    this.updatePill();
  }

  setOtherRead(seq) {
    if (seq <= this.otherReadSeq) return;
    this.otherReadSeq = seq;
    for (const seqValue of this.order) {
      const entry = this.messages.get(seqValue);
      if (seqValue > seq) break;
      const ticks = entry.node.querySelector(".ticks");
      if (ticks && !ticks.classList.contains("read")) {
        ticks.replaceWith(this.ticks(entry.msg, null));
      }
    }
  }

  // ---- rendering ---------------------------------------------------------------------------

  render(msg, pending = null) {
    const side = this.o.side(msg);
    const classes = ["msg", `msg-${side}`, `by-${msg.author?.kind || "subject"}`];
    if (msg.internal) classes.push("msg-internal");
    if (msg.deleted) classes.push("msg-deleted");
    if (pending) classes.push(`msg-${pending.state}`);
    const li = el("li", { class: classes.join(" ") });
    li.dataset.at = msg.created_at;
    li.dataset.author = `${msg.author?.kind}:${msg.author?.name || ""}`;
    if (msg.seq) li.dataset.seq = String(msg.seq);
    if (msg.client_id) li.dataset.clientId = msg.client_id;

    if (side === "center") {
      li.append(el("div", { class: "system-note" }, msg.text || ""));
      return li;
    }

    const bubbleClasses = ["bubble"];
    if (msg.edited_at && !msg.deleted) bubbleClasses.push("edited");
    if (msg.attachment?.image && !msg.text && !msg.deleted) bubbleClasses.push("media-only");
    if (msg.attachment && !msg.deleted) bubbleClasses.push(msg.attachment.image ? "has-image" : "has-attachment");
    const bubble = el("div", { class: bubbleClasses.join(" ") });
    if (msg.internal) bubble.append(el("div", { class: "internal-label" }, icon("note"), "Заметка — клиент её не видит"));
    const author = this.o.authorLabel(msg.author, msg);
    if (author) bubble.append(el("div", { class: "author" }, author));

    if (msg.reply_to && !msg.deleted) bubble.append(this.replyQuote(msg.reply_to));

    if (msg.deleted) {
      bubble.append(el("div", { class: "text deleted-text" }, "Сообщение удалено"));
    } else {
      if (msg.attachment) bubble.append(this.attachment(msg.attachment, pending));
      if (msg.text) {
        const text = el("div", { class: "text" });
        appendLinkified(text, msg.text, { paths: msg.author?.kind === "bot" || msg.author?.kind === "system" });
        bubble.append(text);
      }
      if (msg.links && msg.links.length) bubble.append(this.links(msg.links));
      if (msg.form) {
        bubble.classList.add("has-form");
        bubble.append(this.form(msg));
      }
    }

    const meta = el("span", { class: "meta" });
    if (msg.edited_at && !msg.deleted) meta.append(el("span", { class: "edited-mark" }, "изменено"));
    meta.append(el("time", { datetime: msg.created_at, title: formatFull(msg.created_at) }, formatTime(msg.created_at)));
    if (side === "out" && (!this.o.showTicks || this.o.showTicks(msg))) meta.append(this.ticks(msg, pending));
    bubble.append(meta);
    li.append(bubble);

    if (pending && pending.state === "failed") {
      li.append(
        el(
          "div",
          { class: "failed-note", role: "alert" },
          icon("warn"),
          el("span", {}, pending.reason || "Не отправлено."),
          el("button", { type: "button", class: "link", onclick: () => this.o.onRetry?.(msg.client_id) }, "Повторить"),
        ),
      );
    }

    const chosen = (msg.buttons || []).find((button) => button.chosen);
    if (chosen && !msg.deleted) {
      // The question is answered: its echo is what the client chose, nothing to press.
      const echo = el("span", { class: "bot-choice-pill" }, icon("check"), el("span", { class: "sr-only" }, "Выбрано: "), chosen.label);
      li.append(el("div", { class: "bot-choice" }, echo));
    } else if (msg.buttons && msg.buttons.length && !msg.deleted) {
      const row = el("div", { class: "bot-buttons", role: "group", "aria-label": "Варианты ответа" });
      for (const button of msg.buttons) {
        row.append(
          el(
            "button",
            {
              type: "button",
              class: "bot-button",
              disabled: Boolean(this.o.readOnlyBot),
              onclick: (event) => {
                // One answer per question: the row waits for the server's echo (or its refusal).
                event.currentTarget.classList.add("pressed");
                for (const other of row.querySelectorAll("button")) other.disabled = true;
                setTimeout(() => {
                  for (const other of row.querySelectorAll("button")) other.disabled = false;
                }, 3000);
                this.o.onButton?.(msg, button);
              },
            },
            button.label,
          ),
        );
      }
      li.append(row);
    }

    if (!pending && !msg.deleted) {
      const menuButton = el(
        "button",
        {
          type: "button",
          class: "msg-menu-button",
          "aria-label": "Действия с сообщением",
          "aria-haspopup": "menu",
          onclick: (event) => this.openMessageMenu(msg.seq, event.currentTarget),
        },
        icon("more"),
      );
      li.append(menuButton);
      bubble.addEventListener("contextmenu", (event) => {
        if (window.getSelection()?.toString()) return;
        event.preventDefault();
        this.openMessageMenu(msg.seq, menuButton, { x: event.clientX, y: event.clientY });
      });
      bubble.addEventListener("click", (event) => {
        // On touch screens a tap on a message opens its menu, as in Telegram.
        if (!TOUCH.matches || event.target.closest("a, button, img")) return;
        if (window.getSelection()?.toString()) return;
        this.openMessageMenu(msg.seq, menuButton, { x: event.clientX, y: event.clientY });
      });
      bubble.addEventListener("dblclick", (event) => {
        if (event.target.closest("a, button, img")) return;
        const current = this.get(msg.seq);
        if (current) this.o.onReply?.(current);
      });
    }
    return li;
  }

  ticks(msg, pending) {
    if (pending && pending.state === "sending") {
      return el("span", { class: "ticks sending", role: "img", title: "Отправляется", "aria-label": "Отправляется" }, icon("clock"));
    }
    if (pending && pending.state === "failed") {
      return el("span", { class: "ticks failed", role: "img", title: "Не отправлено", "aria-label": "Не отправлено" }, icon("warn"));
    }
    const read = msg.seq && msg.seq <= this.otherReadSeq;
    return read
      ? el("span", { class: "ticks read", role: "img", title: "Прочитано", "aria-label": "Прочитано" }, icon("checks"))
      : el("span", { class: "ticks sent", role: "img", title: "Доставлено", "aria-label": "Доставлено" }, icon("check"));
  }

  replyQuote(reply) {
    const label = this.o.authorLabel(reply.author, null, true) || "Сообщение";
    const quote = el(
      "button",
      {
        type: "button",
        class: "reply-quote",
        "aria-label": `Ответ на сообщение: ${label}. Показать исходное`,
        onclick: () => this.scrollToSeq(reply.seq),
      },
      el("span", { class: "reply-author" }, label),
      el("span", { class: "reply-text" }, reply.text || this.quoteFallback(reply.seq)),
    );
    return quote;
  }

  links(links) {
    const box = el("div", { class: "bot-links" });
    for (const link of links) {
      const url = String(link.url || "");
      // only this site's pages or http(s): never javascript: or data:
      if (!/^\/(?!\/)/.test(url) && !/^https?:\/\//i.test(url)) continue;
      box.append(el("a", { href: url, target: "_blank", rel: "noopener" }, icon("file"), el("span", {}, link.label || url)));
    }
    return box;
  }

  /** A bot's request for one field: an inline form for the client, a status for staff. */
  form(msg) {
    const f = msg.form;
    if (f.done) {
      return el(
        "div",
        { class: "bot-form bot-form-done" },
        icon("check"),
        el("span", { class: "form-label" }, `${f.label || "Ответ"}:`),
        el("span", { class: "form-value" }, f.display || "отправлено"),
      );
    }
    if (this.o.readOnlyBot) {
      return el("div", { class: "bot-form bot-form-waiting" }, icon("clock"), el("span", {}, `Ждём ответа клиента: ${f.label || "поле"}`));
    }
    const kind = ["tel", "email", "text"].includes(f.input) ? f.input : "text";
    const input =
      f.input === "textarea"
        ? el("textarea", { rows: "3", maxlength: "2000", required: true })
        : el("input", { type: kind, maxlength: "200", required: true, autocomplete: AUTOCOMPLETE[f.field] || "on", inputmode: kind === "tel" ? "tel" : null });
    input.setAttribute("aria-label", f.label || "Ответ");
    input.placeholder = PLACEHOLDERS[f.input] || f.label || "";
    input.value = this.formDrafts.get(msg.seq) || "";
    input.addEventListener("input", () => this.formDrafts.set(msg.seq, input.value));
    const submit = el("button", { type: "submit", class: "primary" }, "Отправить");
    const form = el(
      "form",
      {
        class: "bot-form",
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          const value = input.value.trim();
          if (!value) {
            input.focus();
            return;
          }
          submit.disabled = true;
          setTimeout(() => {
            submit.disabled = false;
          }, 2500);
          this.o.onField?.(msg, value);
        },
      },
      el("span", { class: "form-row" }, input, submit),
    );
    return form;
  }

  quoteFallback(seq) {
    const original = this.get(seq);
    if (!original) return "Сообщение";
    if (original.deleted) return "Сообщение удалено";
    if (original.attachment) return original.attachment.image ? "Фотография" : original.attachment.name || "Файл";
    return "Сообщение";
  }

  attachment(att, pending) {
    if (att.image) {
      const img = el("img", { src: att.url, alt: att.name || "Изображение", loading: "lazy", decoding: "async" });
      img.addEventListener("load", () => {
        // Telegram-like: the bubble takes the picture's width and the caption wraps under it.
        const w = img.naturalWidth;
        const h = img.naturalHeight;
        if (w && h) {
          const width = Math.round(Math.max(160, Math.min(w, MAX_IMAGE_W, (w * MAX_IMAGE_H) / h)));
          img.style.width = `${width}px`;
          const bubble = img.closest(".bubble");
          if (bubble) bubble.style.width = `${width + 6}px`;
        }
        if (this.stickToBottom) this.scrollToBottom(false);
      });
      return el(
        "a",
        {
          class: "att-image",
          href: att.url,
          target: "_blank",
          rel: "noopener",
          "aria-label": `Открыть изображение ${att.name || ""}`.trim(),
          onclick: (event) => {
            if (event.ctrlKey || event.metaKey || event.shiftKey) return;
            event.preventDefault();
            openLightbox(att);
          },
        },
        img,
      );
    }
    return el(
      "a",
      {
        class: "att-file",
        href: pending ? null : att.url,
        target: "_blank",
        rel: "noopener",
        download: att.name || true,
      },
      el("span", { class: "att-icon" }, icon("file")),
      el(
        "span",
        { class: "att-info" },
        el("span", { class: "att-name" }, att.name || "Файл"),
        el("span", { class: "att-size" }, formatBytes(att.size)),
      ),
    );
  }

  /** The date chip stuck at the top says where one is while scrolling; once the scrolling
   * stops it hides, so it never covers the text being read. */
  showDays() {
    for (const day of this.list.querySelectorAll(":scope > .day.idle")) day.classList.remove("idle");
    clearTimeout(this.daysTimer);
    this.daysTimer = setTimeout(() => this.hideStuckDays(), DAY_CHIP_IDLE_MS);
  }

  hideStuckDays() {
    const top = this.scroller.getBoundingClientRect().top;
    for (const day of this.list.querySelectorAll(":scope > .day")) {
      const next = day.nextElementSibling;
      // stuck: pinned at the top while the messages of its day pass under it
      const stuck = next && next.getBoundingClientRect().top < day.getBoundingClientRect().bottom;
      day.classList.toggle("idle", Boolean(stuck) && day.getBoundingClientRect().top - top < STUCK_PX);
    }
  }

  /** Date separators and grouping of consecutive messages by one author. */
  relayout() {
    for (const sep of this.list.querySelectorAll(":scope > .day")) sep.remove();
    let prevKey = null;
    let prev = null;
    for (const node of this.list.children) {
      const at = node.dataset.at;
      const key = dayKey(at);
      if (key !== prevKey) {
        node.before(el("li", { class: "day" }, el("span", {}, dayLabel(at))));
        prevKey = key;
        prev = null;
      }
      const cont =
        prev &&
        prev.dataset.author === node.dataset.author &&
        parseTime(at) - parseTime(prev.dataset.at) < GROUP_MS &&
        !node.classList.contains("by-system");
      node.classList.toggle("cont", Boolean(cont));
      if (prev) prev.classList.toggle("tail", !cont);
      prev = node;
    }
    if (prev) prev.classList.add("tail");
    this.hideStuckDays();
  }

  // ---- scrolling, unread, paging -----------------------------------------------------------

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  visible() {
    return this.o.isVisible ? this.o.isVisible() : document.visibilityState === "visible";
  }

  scrollToBottom(smooth) {
    const s = this.scroller;
    s.scrollTo({ top: s.scrollHeight, behavior: smooth ? scrollMotion() : "auto" });
    this.stickToBottom = true;
    if (!smooth) this.checkSeen();
  }

  scrollToSeq(seq) {
    const entry = this.messages.get(seq);
    if (!entry) {
      this.o.onMissing?.(seq);
      return;
    }
    entry.node.scrollIntoView({ block: "center", behavior: scrollMotion() });
    entry.node.classList.remove("flash");
    void entry.node.offsetWidth;
    entry.node.classList.add("flash");
    const target = entry.node.querySelector(".msg-menu-button") || entry.node;
    target.focus({ preventScroll: true });
  }

  onScroll() {
    this.stickToBottom = this.atBottom();
    this.showDays();
    this.checkSeen();
    this.updatePill();
    if (this.scroller.scrollTop < NEAR_TOP_PX) this.loadOlder();
  }

  async loadOlder() {
    if (!this.hasMore || this.loadingOlder || !this.o.onLoadOlder || !this.order.length) return;
    this.loadingOlder = true;
    this.list.classList.add("loading-older");
    try {
      this.hasMore = await this.o.onLoadOlder(this.minSeq);
    } catch {
      // keep hasMore: the next scroll tries again
    } finally {
      this.loadingOlder = false;
      this.list.classList.remove("loading-older");
    }
  }

  /** When the newest messages are on screen and the page is visible, they are read. */
  checkSeen() {
    if (!this.visible() || !this.atBottom()) return;
    if (this.unread.size) {
      this.unread.clear();
      this.updatePill();
    }
    let newest = 0;
    for (let i = this.order.length - 1; i >= 0; i -= 1) {
      const msg = this.messages.get(this.order[i]).msg;
      if (this.o.side(msg) === "in") {
        newest = msg.seq;
        break;
      }
    }
    if (newest > this.seenSeq) {
      this.seenSeq = newest;
      this.o.onSeen?.(newest);
    }
  }

  updatePill() {
    this.o.onUnread?.(this.unread.size);
    if (!this.pill) return;
    const away = !this.atBottom();
    // A focused control that vanishes drops the keyboard user onto <body>: hand the focus
    // on to what comes after the pill (the composer) before hiding it.
    if (!away && !this.pill.hidden && document.activeElement === this.pill) this.o.afterPill?.()?.focus();
    this.pill.hidden = !away;
    const count = this.unread.size;
    const label = this.pill.querySelector(".pill-label");
    if (label) label.textContent = count ? `${count} ${plural(count, "новое", "новых", "новых")}` : "";
    this.pill.classList.toggle("has-unread", count > 0);
    this.pill.setAttribute(
      "aria-label",
      count ? `${count} ${plural(count, "новое сообщение", "новых сообщения", "новых сообщений")}, прокрутить вниз` : "Прокрутить вниз",
    );
  }

  // ---- the message menu --------------------------------------------------------------------

  openMessageMenu(seq, anchor, point = null) {
    const msg = this.get(seq);
    if (!msg) return;
    const items = [];
    items.push({ label: "Ответить", icon: "reply", action: () => this.o.onReply?.(msg) });
    if (msg.text) {
      items.push({ label: "Копировать текст", icon: "copy", action: () => navigator.clipboard?.writeText(msg.text) });
    }
    if (this.canModify(msg)) {
      if (msg.text || !msg.attachment) items.push({ label: "Изменить", icon: "edit", action: () => this.o.onEdit?.(msg) });
      items.push({ label: "Удалить", icon: "trash", danger: true, action: () => this.o.onDelete?.(msg) });
    }
    items.push(...(this.o.messageItems?.(msg, anchor) || []));
    openMenu(items, anchor, point);
  }

  canModify(msg) {
    if (!msg || msg.deleted || !this.o.isOwn(msg)) return false;
    const age = Date.now() - parseTime(msg.created_at).getTime();
    return age < (this.o.editWindowSeconds || 0) * 1000;
  }
}

// ---- the image viewer ----------------------------------------------------------------------

function openLightbox(att) {
  const previous = document.activeElement;
  const close = () => {
    dialog.close();
    dialog.remove();
    previous?.focus?.();
  };
  const dialog = el(
    "dialog",
    { class: "lightbox", "aria-label": att.name || "Изображение" },
    el("img", { src: att.url, alt: att.name || "Изображение" }),
    el(
      "div",
      { class: "lightbox-bar" },
      el("span", { class: "lightbox-name" }, att.name || ""),
      el("a", { href: att.url, download: att.name || true, class: "lightbox-link" }, "Скачать"),
      el("button", { type: "button", class: "lightbox-close", "aria-label": "Закрыть", onclick: close }, icon("close")),
    ),
  );
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) close();
  });
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    close();
  });
  document.body.append(dialog);
  dialog.showModal();
  dialog.querySelector(".lightbox-close").focus();
}
