// The client's chat (/chat and the widget's iframe /chat?embed=1). Protocol: docs/protocol.md.

import { confirmDialog, el, errorText, hueOf, icon, initials, toast, uuid } from "/static/web/dom.js";
import { Composer } from "/static/web/composer.js";
import { ChatSocket } from "/static/web/socket.js";
import { Thread } from "/static/web/thread.js";

const root = document.getElementById("chat");
const embed = root.dataset.embed === "1";
const PAGE_SIZE = 50;
const TYPING_SHOW_MS = 5000;

const ui = {
  name: root.querySelector(".chat-name"),
  status: root.querySelector(".chat-status"),
  avatar: root.querySelector(".chat-head .avatar"),
  banner: root.querySelector(".conn-banner"),
  body: root.querySelector(".chat-body"),
  list: root.querySelector(".msgs"),
  welcome: root.querySelector(".chat-welcome"),
  topics: root.querySelector(".topics"),
  topicButtons: root.querySelector(".topic-buttons"),
  topicChosen: root.querySelector(".topic-chosen"),
  queue: root.querySelector(".queue-note"),
  availability: root.querySelector(".welcome-availability"),
  pill: root.querySelector(".new-pill"),
  toasts: root.querySelector(".toasts"),
  form: root.querySelector(".composer"),
};

for (const node of document.querySelectorAll("[data-icon]")) node.prepend(icon(node.dataset.icon));
ui.list.setAttribute("aria-live", "off");

const state = {
  conversation: null,
  status: null,
  topic: null,
  localTopic: null,
  topics: [],
  operator: null,
  queuePosition: null,
  availability: null, // while waiting: is the team open, when it opens, is anyone online
  editWindow: Number(root.dataset.editWindow) || 0,
  version: 0, // the highest version seen: resume from here
  clientReadSeq: null, // what the server says this client has read
  synced: false,
  connection: "connecting",
  typingUntil: 0,
  // The widget loads the chat before its panel opens (to show the unread badge): in a frame
  // the chat is on screen only once the widget says so.
  panelOpen: !embed,
};
const baseTitle = document.title;

function authorLabel(author, _msg, forQuote = false) {
  if (!author) return "";
  if (author.kind === "subject") return forQuote ? "Вы" : "";
  if (author.kind === "bot") return author.name || "Бот";
  if (author.kind === "system") return forQuote ? "Система" : "";
  return author.name || "Оператор";
}

const thread = new Thread(ui.body, ui.list, {
  side: (msg) => (msg.author?.kind === "system" ? "center" : msg.author?.kind === "subject" ? "out" : "in"),
  isOwn: (msg) => msg.author?.kind === "subject",
  authorLabel,
  pill: ui.pill,
  afterPill: () => composer.input,
  get editWindowSeconds() {
    return state.editWindow;
  },
  isVisible: () => document.visibilityState === "visible" && state.panelOpen,
  onReply: (msg) => composer.reply(msg),
  onEdit: (msg) => composer.edit(msg),
  onDelete: async (msg) => {
    if (await confirmDialog("Удалить сообщение? Оно исчезнет у всех.", "Удалить", true)) {
      send({ type: "delete", seq: msg.seq });
    }
  },
  onButton: (msg, button) => send({ type: "button", seq: msg.seq, button: button.id }),
  onField: (msg, value) => send({ type: "field", seq: msg.seq, value }),
  onRetry: (clientId) => {
    const msg = thread.retryPending(clientId);
    if (msg) sendMessageFrame(msg);
  },
  onLoadOlder: loadOlder,
  onSeen: (seq) => {
    if (state.conversation) send({ type: "read", seq });
  },
  onUnread: (count) => {
    document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
    if (embed) window.parent.postMessage({ okno: "unread", count }, "*");
  },
  onMissing: () => toast(ui.toasts, "Исходное сообщение не загружено: прокрутите историю выше.", "info", 3000),
});

const composer = new Composer(ui.form, {
  maxUploadBytes: Number(root.dataset.maxUpload) || 0,
  uploadUrl: "/api/chat/attachments",
  authorLabel,
  onSend: ({ text, replyTo, attachment }) => {
    const msg = {
      conversation: state.conversation,
      seq: 0,
      version: 0,
      client_id: uuid(),
      author: { kind: "subject", name: null },
      text,
      reply_to: replyTo ? { seq: replyTo.seq, author: replyTo.author, text: replyTo.text } : null,
      attachment: attachment || null,
      buttons: [],
      internal: false,
      created_at: new Date().toISOString(),
      edited_at: null,
      deleted: false,
    };
    thread.addPending(msg);
    renderWelcome();
    sendMessageFrame(msg);
    return true;
  },
  onEdit: (msg, text) => send({ type: "edit", seq: msg.seq, text }),
  onTyping: () => {
    if (state.conversation) send({ type: "typing" });
  },
  onError: (text) => toast(ui.toasts, text),
  lastOwnMessage: () => {
    for (let i = thread.order.length - 1; i >= 0; i -= 1) {
      const msg = thread.get(thread.order[i]);
      if (thread.canModify(msg) && msg.text) return msg;
    }
    return null;
  },
});

function sendMessageFrame(msg) {
  send({
    type: "send",
    client_id: msg.client_id,
    text: msg.text,
    reply_to: msg.reply_to ? msg.reply_to.seq : undefined,
    attachment: msg.attachment ? msg.attachment.id : undefined,
  });
}

function send(frame) {
  return socket.send(frame);
}

// ---- the socket ------------------------------------------------------------------------------

const socket = new ChatSocket("/ws/client", {
  onOpen: () => {
    state.synced = false;
    send({ type: "resume", after: state.version });
  },
  onFrame: handleFrame,
  onState: (connection) => {
    state.connection = connection;
    renderHeader();
    renderBanner();
  },
  onClose: (event) => {
    if (event.code === 4401) {
      // No visitor cookie (e.g. cookies blocked): a reload of /chat sets it once.
      let reloaded = false;
      try {
        reloaded = sessionStorage.getItem("okno-reloaded") === "1";
        sessionStorage.setItem("okno-reloaded", "1");
      } catch {
        reloaded = true;
      }
      if (!reloaded) {
        location.reload();
        return "stop";
      }
      showBanner("Не удалось открыть чат: разрешите этому сайту сохранять cookie и обновите страницу.", true);
      return "stop";
    }
    return "retry";
  },
});

function handleFrame(frame) {
  switch (frame.type) {
    case "state":
      applyState(frame);
      break;
    case "message":
      onMessage(frame.message || frame);
      break;
    case "synced":
      onSynced(frame);
      break;
    case "ack":
      if (frame.conversation && !state.conversation) {
        state.conversation = frame.conversation;
        renderWelcome();
      }
      thread.ackPending(frame.client_id, frame.seq);
      break;
    case "read":
      if (frame.side === "staff") thread.setOtherRead(frame.seq);
      break;
    case "typing":
      if (frame.side === "staff") {
        state.typingUntil = Date.now() + TYPING_SHOW_MS;
        if (frame.name) state.typingName = frame.name;
        renderHeader();
        setTimeout(renderHeader, TYPING_SHOW_MS + 50);
      }
      break;
    case "error":
      onError(frame);
      break;
    default:
      break;
  }
}

function onMessage(msg) {
  if (typeof msg.seq !== "number") return;
  if (msg.version > state.version) state.version = msg.version;
  if (!state.conversation && msg.conversation) {
    state.conversation = msg.conversation;
    renderWelcome();
  }
  if (msg.author?.kind === "staff") state.typingUntil = 0;
  if (state.synced) {
    thread.upsert(msg, { live: true });
    renderHeader();
  } else {
    initialBatch.push(msg);
  }
}

let initialBatch = [];
let firstSync = true;

function onSynced(frame) {
  if (typeof frame.version === "number" && frame.version > state.version) state.version = frame.version;
  const batch = initialBatch;
  initialBatch = [];
  state.synced = true;
  thread.upsertMany(batch, { live: !firstSync });
  if (state.clientReadSeq !== null) thread.markUnreadAfter(state.clientReadSeq); // state may come first
  if (firstSync) {
    firstSync = false;
    ui.list.setAttribute("aria-live", "polite"); // announce new messages, not the history
    thread.hasMore = thread.order.length > 0;
    thread.scrollToBottom(false);
    root.classList.add("ready");
  }
  // Sends that were never acknowledged go again with the same client_id: never doubled.
  for (const msg of thread.unacked()) sendMessageFrame(msg);
  renderWelcome();
  renderHeader();
}

function onError(frame) {
  const text = errorText(frame);
  if (frame.client_id && thread.failPending(frame.client_id, text)) {
    if (frame.code === "rate_limited" || frame.code === "unavailable") {
      // try once more on our own after a pause
      const clientId = frame.client_id;
      setTimeout(() => {
        const entry = thread.pending.get(clientId);
        if (entry && entry.state === "failed" && !entry.autoRetried) {
          entry.autoRetried = true;
          const msg = thread.retryPending(clientId);
          if (msg) sendMessageFrame(msg);
        }
      }, 2000);
    }
  }
  toast(ui.toasts, text, "error", frame.code === "rate_limited" ? 3500 : 5000);
}

function applyState(frame) {
  state.conversation = frame.conversation ?? null;
  state.status = frame.status ?? null;
  state.topic = frame.topic ?? null;
  state.topics = Array.isArray(frame.topics) ? frame.topics : [];
  state.operator = frame.operator ?? null;
  state.queuePosition = frame.queue_position ?? null;
  state.availability = frame.availability ?? null;
  if (typeof frame.edit_window_seconds === "number") state.editWindow = frame.edit_window_seconds;
  if (typeof frame.staff_read_seq === "number") thread.setOtherRead(frame.staff_read_seq);
  // What the client has not read yet, as the server knows it: unread even in a page opened later.
  if (typeof frame.client_read_seq === "number") {
    state.clientReadSeq = frame.client_read_seq;
    thread.markUnreadAfter(state.clientReadSeq);
  }
  // The widget preloads the chat on the site's next pages once there is a conversation.
  if (embed && state.conversation) window.parent.postMessage({ okno: "started" }, "*");
  renderWelcome();
  renderHeader();
}

// ---- history ---------------------------------------------------------------------------------

async function loadOlder(beforeSeq) {
  const response = await fetch(`/api/chat/messages?before=${beforeSeq}&limit=${PAGE_SIZE}`, {
    credentials: "same-origin",
    headers: { accept: "application/json" },
  });
  if (!response.ok) throw new Error(String(response.status));
  const data = await response.json();
  const messages = Array.isArray(data) ? data : data.messages || [];
  for (const msg of messages) if (msg.version > state.version) state.version = msg.version;
  thread.upsertMany(messages, { prepend: true });
  return messages.length >= PAGE_SIZE;
}

// ---- rendering -------------------------------------------------------------------------------

function renderWelcome() {
  const fresh = !state.conversation && thread.order.length === 0 && thread.pending.size === 0;
  ui.welcome.hidden = !fresh;
  const topics = state.topics.length ? state.topics : [];
  const slug = state.topic || state.localTopic;
  const chosen = topics.find((t) => t.slug === slug);
  ui.topics.hidden = !fresh || !topics.length || Boolean(chosen);
  if (topics.length) {
    ui.topicButtons.replaceChildren(
      ...topics.map((topic) =>
        el(
          "button",
          {
            type: "button",
            class: "topic-button",
            onclick: () => {
              if (!send({ type: "topic", slug: topic.slug })) return;
              state.localTopic = topic.slug; // the state that answers may not name it yet
              renderWelcome();
              composer.focus();
            },
          },
          topic.title,
        ),
      ),
    );
  }
  ui.topicChosen.hidden = !fresh || !chosen;
  ui.topicChosen.textContent = chosen ? `Тема: ${chosen.title}. Напишите ваш вопрос.` : "";
  const waiting = state.queuePosition !== null && state.queuePosition !== undefined;
  ui.queue.hidden = !waiting;
  ui.queue.textContent = waiting ? `Вы в очереди: ${state.queuePosition}. ${queuePromise()}` : "";
  const notice = fresh ? availabilityNotice() : "";
  ui.availability.hidden = !notice;
  ui.availability.textContent = notice;
}

// What the queue can honestly promise: an operator soon only when one is online and working.
function queuePromise() {
  const a = state.availability;
  if (a && !a.open) return `Сейчас нерабочее время: ответим ${a.next_opening}. Сообщение дождётся оператора.`;
  if (a && !a.operators_online) return "Сейчас нет операторов в сети: ответит первый, кто подключится. Ответ появится в этом чате.";
  return "Оператор скоро ответит.";
}

function availabilityNotice() {
  const a = state.availability;
  if (a && !a.open) return `Сейчас нерабочее время. Оставьте сообщение — операторы ответят ${a.next_opening}.`;
  if (a && !a.operators_online) return "Сейчас нет операторов в сети. Оставьте сообщение — ответит первый, кто подключится.";
  return "";
}

function renderHeader() {
  const op = state.operator;
  const name = op?.name || root.dataset.title || "Поддержка";
  ui.name.textContent = name;
  ui.avatar.textContent = op?.name ? initials(op.name) : "";
  ui.avatar.classList.toggle("avatar-brand", !op?.name);
  if (op?.name) ui.avatar.style.setProperty("--hue", String(hueOf(op.name)));
  ui.avatar.classList.toggle("online", op?.presence === "online");

  let text;
  let cls = "";
  if (state.connection !== "open") {
    text = state.connection === "stopped" ? "нет соединения" : "соединение…";
    cls = "is-offline";
  } else if (state.typingUntil > Date.now()) {
    text = "печатает…";
    cls = "is-typing";
  } else if (state.queuePosition !== null && state.queuePosition !== undefined) {
    text = `Вы в очереди: ${state.queuePosition}`;
  } else if (op) {
    text = op.presence === "online" ? "в сети" : op.presence === "away" ? "скоро вернётся" : "не в сети";
    if (op.presence === "online") cls = "is-online";
  } else if (state.status === "resolved") {
    text = "обращение закрыто — напишите, если нужна помощь";
  } else if (state.availability && !state.availability.open) {
    text = "сейчас нерабочее время";
  } else if (state.availability && !state.availability.operators_online) {
    text = "операторы не в сети";
  } else if (state.conversation) {
    text = "ищем свободного оператора";
  } else {
    text = "обычно отвечаем за несколько минут";
  }
  // The status is a live region: it is rewritten only when it changes, so a screen reader
  // announces "печатает…" once, not on every typing frame or timer tick.
  const className = `chat-status ${cls}`.trim();
  if (ui.status.dataset.text === text && ui.status.className === className) return;
  ui.status.dataset.text = text;
  ui.status.textContent = text;
  ui.status.className = className;
  if (cls === "is-typing") ui.status.append(el("span", { class: "typing-dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")));
}

let bannerTimer = null;
function renderBanner() {
  clearTimeout(bannerTimer);
  if (state.connection === "open") {
    ui.banner.hidden = true;
    return;
  }
  if (state.connection === "stopped") return;
  // a short blip is not worth a banner
  bannerTimer = setTimeout(() => showBanner("Нет соединения. Переподключаемся… Сообщения отправятся сами."), 1500);
}

function showBanner(text, error = false) {
  ui.banner.textContent = text;
  ui.banner.classList.toggle("error", error);
  ui.banner.hidden = false;
}

// ---- the widget frame ------------------------------------------------------------------------

if (embed) {
  root.querySelector(".widget-close")?.addEventListener("click", () => {
    window.parent.postMessage({ okno: "close" }, "*");
  });
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || !event.data || event.data.okno !== "panel") return;
    state.panelOpen = Boolean(event.data.open);
    if (state.panelOpen) {
      thread.checkSeen();
      composer.focus();
    }
  });
}

document.addEventListener("keydown", (event) => {
  // typing anywhere goes to the composer
  if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
    const target = event.target;
    if (target === document.body) composer.focus();
  }
});

setInterval(() => {
  // "Сегодня" becomes "Вчера" at midnight; the typing indicator expires
  renderHeader();
}, 60000);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") thread.relayout();
});

window.okno = { socket, thread, state };
renderWelcome();
renderHeader();
socket.connect();
// no keyboard pop-up on phones; a widget's preloaded chat takes no focus from the site's page
if (state.panelOpen && !window.matchMedia("(hover: none)").matches) composer.focus();
