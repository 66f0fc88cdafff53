// The operator console (/admin/chats): conversation list, the open conversation, the client's
// profile. One staff WebSocket (/ws/staff); protocol in docs/protocol.md.

import { confirmDialog, csrfToken, el, errorText, hueOf, icon, initials, shortWhen, toast, uuid } from "/static/web/dom.js";
import { Composer } from "/static/web/composer.js";
import { openMenu } from "/static/web/menu.js";
import { ChatSocket } from "/static/web/socket.js";
import { Thread } from "/static/web/thread.js";
import { Alerts } from "./alerts.js";
import { Canned } from "./canned.js";
import { watchDeliveries } from "./deliveries.js";
import { renderProfile } from "./profile.js";
import { bulk, bulkSummary, pickTime, snooze, snoozeChoices, snoozedNow, snoozedText, slaTimer, waitingLabel } from "./triage.js";

const root = document.getElementById("console");
const me = {
  id: Number(root.dataset.userId),
  name: root.dataset.userName,
  role: root.dataset.role,
};
const seesAll = me.role === "supervisor" || me.role === "admin";
const PAGE_SIZE = 50;
const TYPING_SHOW_MS = 5000;
const STATUS_LABELS = { new: "Новый", open: "Открыт", pending: "Ждёт клиента", resolved: "Решён" };
const BOX_EMPTY = {
  queue: "Очередь пуста. Новые обращения появятся здесь.",
  mine: "У вас нет назначенных диалогов.",
  team: "В диалогах команды пока пусто.",
  all: "Диалогов пока нет.",
};

const ui = {
  tabs: [...root.querySelectorAll(".tab")],
  search: root.querySelector(".conv-search"),
  tagFilter: root.querySelector(".tag-filter"),
  tagOptions: document.getElementById("tag-options"),
  tagList: root.querySelector(".tag-list"),
  tagAdd: root.querySelector(".tag-add"),
  tagInput: root.querySelector(".tag-input"),
  list: root.querySelector(".conv-list"),
  listEmpty: root.querySelector(".conv-list-empty"),
  presence: root.querySelector(".presence-toggle"),
  meAvatar: root.querySelector(".me-avatar"),
  empty: root.querySelector(".conv-empty"),
  active: root.querySelector(".conv-active"),
  title: root.querySelector(".conv-title"),
  sub: root.querySelector(".conv-sub"),
  live: root.querySelector(".console-status"),
  queueLive: root.querySelector(".queue-status"),
  avatar: root.querySelector(".conv-avatar"),
  take: root.querySelector(".take-button"),
  transfer: root.querySelector(".transfer-button"),
  statusButton: root.querySelector(".status-button"),
  requestButton: root.querySelector(".request-button"),
  profileButton: root.querySelector(".profile-button"),
  back: root.querySelector(".back-button"),
  body: root.querySelector(".conv-body"),
  msgs: root.querySelector(".conv-body .msgs"),
  pill: root.querySelector(".new-pill"),
  toasts: root.querySelector(".toasts"),
  form: root.querySelector(".composer"),
  destroyed: root.querySelector(".conv-destroyed"),
  internal: root.querySelector(".internal-toggle"),
  cannedPopup: root.querySelector(".canned-popup"),
  profile: root.querySelector(".profile-pane"),
  profileContent: root.querySelector(".profile-content"),
  profileClose: root.querySelector(".profile-close"),
  alertsButton: root.querySelector(".alerts-button"),
  filters: [...root.querySelectorAll(".filter")],
  filtersCount: root.querySelector(".filters-count"),
  sortOrder: root.querySelector(".sort-order"),
  snoozedFilter: root.querySelector(".filter-snoozed"),
  snoozeButton: root.querySelector(".snooze-button"),
  snoozedNote: root.querySelector(".snoozed-note"),
  colleagues: root.querySelector(".colleagues"),
  bulkToggle: root.querySelector(".bulk-toggle"),
  bulkBar: root.querySelector(".bulk-bar"),
};

for (const node of document.querySelectorAll("[data-icon]")) node.prepend(icon(node.dataset.icon));
ui.meAvatar.textContent = initials(me.name);
ui.meAvatar.style.setProperty("--hue", String(hueOf(me.name)));

const state = {
  box: "mine",
  q: "",
  tag: "", // only conversations with this tag, when set
  convs: new Map(), // id -> summary
  listIds: [], // ids shown in the current box
  current: null, // open conversation id
  version: 0, // highest version seen in the open conversation
  synced: false,
  batch: [],
  typingUntil: 0,
  presence: "online",
  connection: "connecting",
  everOpen: false, // the socket was open once: a later drop is announced
  listsLoaded: false,
  queueSeen: null, // the queue's size last announced (null: not yet, the lists are loading)
  directory: null,
  myClientIds: new Set(),
  drafts: new Map(), // conversation id -> unsent text
  profileOpen: false,
  filters: {}, // status, topic, team, assignee: what narrows the current box
  snoozed: false, // the current box lists the snoozed conversations instead
  sort: "auto",
  bulk: null, // a supervisor's selection (a Set of ids) while choosing several
  viewers: [], // colleagues with the open conversation open too
  colleagueTyping: null, // { id, name, until }
};
const alerts = new Alerts({ onError: (text) => toast(ui.toasts, text) });
const baseTitle = document.title;

try {
  state.profileOpen = localStorage.getItem("okno-profile") !== "0" && window.innerWidth >= 1200;
  if (localStorage.getItem("okno-presence") === "away") state.presence = "away";
} catch {
  // storage blocked
}

// ---- the thread and the composer -------------------------------------------------------------

function isOwn(msg) {
  if (msg.author?.kind !== "staff") return false;
  return state.myClientIds.has(msg.client_id) || msg.author.name === me.name;
}

function authorLabel(author, msg, forQuote = false) {
  if (!author) return "";
  if (author.kind === "subject") return forQuote ? conversationLabel(state.convs.get(state.current)) : "";
  if (author.kind === "bot") return author.name || "Бот";
  if (author.kind === "system") return forQuote ? "Система" : "";
  if (msg ? isOwn(msg) : author.name === me.name) return forQuote ? "Вы" : "";
  return author.name || "Оператор";
}

const thread = new Thread(ui.body, ui.msgs, {
  side: (msg) => {
    const kind = msg.author?.kind;
    if (kind === "system") return "center";
    return kind === "subject" ? "in" : "out";
  },
  showTicks: (msg) => msg.author?.kind === "staff" && !msg.internal,
  isOwn,
  authorLabel,
  pill: ui.pill,
  afterPill: () => composer.input,
  editWindowSeconds: Number(root.dataset.editWindow) || 0,
  onReply: (msg) => composer.reply(msg),
  onEdit: (msg) => composer.edit(msg),
  onDelete: async (msg) => {
    if (await confirmDialog("Удалить сообщение? Оно исчезнет и у клиента.", "Удалить", true)) {
      send({ type: "delete", conversation: state.current, seq: msg.seq });
    }
  },
  messageItems: (msg, anchor) =>
    msg.author?.kind === "subject" && !msg.deleted && msg.text !== SPECIAL_TEXT
      ? [{ label: "Особая категория данных…", icon: "note", action: () => markSpecial(msg, anchor) }]
      : [],
  readOnlyBot: true, // the bot's buttons and forms are the client's to answer
  onRetry: (clientId) => {
    const msg = thread.retryPending(clientId);
    if (msg) sendMessageFrame(msg);
  },
  onLoadOlder: loadOlder,
  onSeen: (seq) => {
    if (state.current) send({ type: "read", conversation: state.current, seq });
  },
  onMissing: () => toast(ui.toasts, "Исходное сообщение выше: прокрутите историю.", "info", 3000),
});

// Special categories of PD (152-FZ Art. 10): marked, the message is hidden from staff and goes
// to the DPO (okno.platform.chat.special).
const SPECIAL_TEXT = "скрыто: особая категория";
const SPECIAL_CATEGORIES = [
  ["health", "Сведения о здоровье"],
  ["beliefs", "Религиозные или философские убеждения"],
  ["political_views", "Политические взгляды"],
  ["race_nationality", "Расовая или национальная принадлежность"],
  ["intimate_life", "Сведения об интимной жизни"],
  ["criminal_record", "Сведения о судимости"],
];

function markSpecial(msg, anchor) {
  const conversation = state.current;
  openMenu(
    SPECIAL_CATEGORIES.map(([category, label]) => ({
      label,
      icon: "note",
      action: async () => {
        const response = await fetch(`/api/staff/conversations/${conversation}/messages/${msg.seq}/special`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-csrf-token": csrfToken(), accept: "application/json" },
          body: JSON.stringify({ category }),
        });
        if (response.ok) toast(ui.toasts, "Сообщение скрыто и передано ответственному за обработку ПДн.", "info", 4000);
        else toast(ui.toasts, (await response.json().catch(() => ({}))).detail || "Не удалось отметить сообщение.");
      },
    })),
    anchor,
  );
}

const composer = new Composer(ui.form, {
  maxUploadBytes: Number(root.dataset.maxUpload) || 0,
  uploadUrl: "/api/staff/attachments",
  authorLabel,
  onSend: ({ text, replyTo, attachment }) => {
    if (!state.current) return false;
    const msg = {
      conversation: state.current,
      seq: 0,
      version: 0,
      client_id: uuid(),
      author: { kind: "staff", name: me.name },
      text,
      reply_to: replyTo ? { seq: replyTo.seq, author: replyTo.author, text: replyTo.text } : null,
      attachment: attachment || null,
      buttons: [],
      internal: ui.internal.checked,
      created_at: new Date().toISOString(),
      edited_at: null,
      deleted: false,
    };
    state.myClientIds.add(msg.client_id);
    thread.addPending(msg);
    sendMessageFrame(msg);
    return true;
  },
  onEdit: (msg, text) => send({ type: "edit", conversation: state.current, seq: msg.seq, text }),
  onTyping: () => {
    if (state.current && !ui.internal.checked) send({ type: "typing", conversation: state.current });
  },
  onError: (text) => toast(ui.toasts, text),
  onKeydown: (event) => canned.onKeydown(event),
  lastOwnMessage: () => {
    for (let i = thread.order.length - 1; i >= 0; i -= 1) {
      const msg = thread.get(thread.order[i]);
      if (thread.canModify(msg) && msg.text) return msg;
    }
    return null;
  },
});

const canned = new Canned(ui.cannedPopup, composer.input, {
  canShare: seesAll,
  onInsert: (text) => {
    composer.setText(text);
    composer.focus();
  },
  onError: (text) => toast(ui.toasts, text),
});

ui.internal.addEventListener("change", () => {
  ui.form.classList.toggle("internal", ui.internal.checked);
  composer.input.placeholder = ui.internal.checked ? "Заметка для коллег — клиент её не увидит" : "Ответ клиенту…  / — шаблоны";
  composer.focus();
});

function sendMessageFrame(msg) {
  send({
    type: "send",
    conversation: msg.conversation,
    client_id: msg.client_id,
    text: msg.text,
    reply_to: msg.reply_to ? msg.reply_to.seq : undefined,
    attachment: msg.attachment ? msg.attachment.id : undefined,
    internal: Boolean(msg.internal),
  });
}

function send(frame) {
  return socket.send(frame);
}

// ---- the socket ------------------------------------------------------------------------------

const socket = new ChatSocket("/ws/staff", {
  onOpen: () => {
    send({ type: "presence", status: state.presence });
    if (state.current) {
      state.synced = false;
      state.batch = [];
      send({ type: "open", conversation: state.current, after: state.version });
    }
    loadLists();
  },
  onFrame: handleFrame,
  onState: (connection) => {
    state.connection = connection;
    if (connection === "open") state.everOpen = true;
    root.classList.toggle("offline", connection !== "open");
    renderHeader();
    announceStatus();
  },
  onClose: (event) => {
    if (event.code === 4401) {
      // The session ended (signed out, password changed, account disabled, expired).
      location.href = `/admin/login?next=${encodeURIComponent(location.pathname)}`;
      return "stop";
    }
    if (event.code === 4403) {
      // The role no longer has chats: the console's start page says what it has.
      location.href = "/admin";
      return "stop";
    }
    return "retry";
  },
});

function handleFrame(frame) {
  switch (frame.type) {
    case "conversation":
      onSummary(frame.conversation && typeof frame.conversation === "object" ? frame.conversation : frame);
      break;
    case "message":
      onMessage(frame.message || frame);
      break;
    case "synced":
      if (frame.conversation && frame.conversation !== state.current) break;
      onSynced(frame);
      break;
    case "ack":
      if (frame.conversation === state.current) thread.ackPending(frame.client_id, frame.seq);
      break;
    case "read":
      if (frame.side === "client" && (!frame.conversation || frame.conversation === state.current)) {
        thread.setOtherRead(frame.seq);
      }
      break;
    case "typing":
      if (frame.side === "client" && (!frame.conversation || frame.conversation === state.current)) {
        state.typingUntil = Date.now() + TYPING_SHOW_MS;
        renderHeader();
        setTimeout(renderHeader, TYPING_SHOW_MS + 50);
      }
      break;
    case "error":
      onError(frame);
      break;
    case "access_ended":
      onAccessEnded(frame.conversation);
      break;
    case "viewers":
      if (frame.conversation === state.current) {
        state.viewers = (frame.viewers || []).filter((viewer) => viewer.id !== me.id);
        // whoever left is not writing here any more
        if (!state.viewers.some((viewer) => viewer.id === state.colleagueTyping?.id)) state.colleagueTyping = null;
        renderColleagues();
      }
      break;
    case "colleague_typing":
      if (frame.conversation === state.current) {
        state.colleagueTyping = { id: frame.id, name: frame.name, until: Date.now() + TYPING_SHOW_MS };
        renderColleagues();
        setTimeout(renderColleagues, TYPING_SHOW_MS + 50);
      }
      break;
    default:
      break;
  }
}

function onMessage(msg) {
  if (msg.conversation !== state.current || typeof msg.seq !== "number") return;
  if (msg.version > state.version) state.version = msg.version;
  if (msg.author?.kind === "subject") state.typingUntil = 0;
  if (state.synced) {
    const before = thread.get(msg.seq);
    thread.upsert(msg, { live: true });
    renderHeader();
    // the client has just answered a field request: the profile shows the new value
    if (msg.form?.done && before && !before.form?.done && state.profileOpen) renderProfilePane(true);
  } else {
    state.batch.push(msg);
  }
}

function onSynced(frame) {
  if (typeof frame.version === "number" && frame.version > state.version) state.version = frame.version;
  const first = thread.order.length === 0;
  const batch = state.batch;
  state.batch = [];
  state.synced = true;
  thread.upsertMany(batch, { live: !first });
  if (first) {
    thread.hasMore = thread.order.length > 0;
    thread.scrollToBottom(false);
  }
  for (const msg of thread.unacked()) sendMessageFrame(msg);
  ui.body.classList.remove("loading");
  ui.msgs.setAttribute("aria-live", "polite");
}

/** A conversation this operator may no longer see (transferred away, left the team). */
function onAccessEnded(id) {
  if (typeof id !== "number") return;
  send({ type: "leave", conversation: id }); // colleagues stop seeing it open here
  state.convs.delete(id);
  state.listIds = state.listIds.filter((other) => other !== id);
  state.drafts.delete(id);
  if (state.current === id) {
    closeConversation();
    history.replaceState(null, "", location.pathname);
  }
  renderList();
  toast(ui.toasts, "Диалог вам больше недоступен: его передали или вы вышли из команды.", "info", 5000);
}

function closeConversation() {
  state.current = null;
  state.synced = false;
  state.batch = [];
  thread.clear();
  composer.cancel();
  ui.active.hidden = true;
  ui.empty.hidden = false;
  setView("list");
  renderList();
}

function onError(frame) {
  const text = errorText(frame);
  if (frame.client_id) thread.failPending(frame.client_id, text);
  toast(ui.toasts, text);
}

// ---- conversation list -----------------------------------------------------------------------

/** Whether the current box's filters keep ``conv`` (the server applies the same to a load). */
function passesFilters(conv) {
  if (state.tag && !(conv.tags || []).includes(state.tag)) return false;
  if (snoozedNow(conv) !== state.snoozed) return false;
  const { status, topic, team, assignee } = state.filters;
  if (status && conv.status !== status) return false;
  if (topic && conv.topic?.slug !== topic) return false;
  if (team && String(conv.team?.id) !== team) return false;
  if (assignee && String(conv.assignee?.id || 0) !== assignee) return false;
  return true;
}

function inBox(conv, box) {
  if (!conv) return false;
  if (box === state.box ? !passesFilters(conv) : snoozedNow(conv)) return false;
  switch (box) {
    case "queue":
      return !conv.assignee && conv.status !== "resolved";
    case "mine":
      return conv.assignee?.id === me.id;
    default:
      return true;
  }
}

function sortKey(conv) {
  return new Date(conv.last_message?.at || conv.updated_at || conv.created_at).getTime() || 0;
}

function waitingKey(conv) {
  return conv.waiting_since ? new Date(conv.waiting_since).getTime() : Infinity;
}

function sortIds(ids) {
  const order = state.sort === "auto" ? (state.box === "queue" ? "waiting" : "recent") : state.sort;
  const conv = (id) => state.convs.get(id);
  if (order === "waiting") {
    // The longest waiting first; those not waiting after them, the oldest message first.
    return ids.sort((a, b) => waitingKey(conv(a)) - waitingKey(conv(b)) || sortKey(conv(a)) - sortKey(conv(b)));
  }
  return ids.sort((a, b) => sortKey(conv(b)) - sortKey(conv(a)));
}

async function fetchBox(box, q = "", tag = "", filters = {}) {
  const params = new URLSearchParams({ box });
  if (q) params.set("q", q);
  if (tag) params.set("tag", tag);
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  const response = await fetch(`/api/staff/conversations?${params}`, { headers: { accept: "application/json" } });
  if (response.status === 401) {
    location.href = `/admin/login?next=${encodeURIComponent(location.pathname)}`;
    return [];
  }
  if (!response.ok) throw new Error(String(response.status));
  const data = await response.json();
  return Array.isArray(data) ? data : data.conversations || data.items || [];
}

let listRequest = 0;
async function loadList() {
  const request = ++listRequest;
  root.classList.add("list-loading");
  try {
    const convs = await fetchBox(state.box, state.q, state.tag, { ...state.filters, snoozed: state.snoozed ? "true" : "" });
    if (request !== listRequest) return;
    for (const conv of convs) state.convs.set(conv.id, conv);
    state.listIds = sortIds(convs.map((c) => c.id));
    renderList();
    renderTagOptions();
  } catch {
    if (request === listRequest) toast(ui.toasts, "Не удалось загрузить список диалогов.");
  } finally {
    if (request === listRequest) root.classList.remove("list-loading");
  }
}

async function loadLists() {
  await loadList();
  // the other boxes' counters
  for (const box of ["queue", "mine"]) {
    if (box === state.box) continue;
    try {
      for (const conv of await fetchBox(box)) if (!state.convs.has(conv.id)) state.convs.set(conv.id, conv);
    } catch {
      // counters only
    }
  }
  state.listsLoaded = true;
  renderCounts();
}

function onSummary(conv, { quiet = false } = {}) {
  if (!conv || typeof conv.id !== "number") return;
  const old = state.convs.get(conv.id);
  if (!quiet) alertFor(conv, old);
  state.convs.set(conv.id, conv);
  const shown = state.listIds.includes(conv.id);
  const belongs = inBox(conv, state.box);
  if (shown && !belongs) {
    state.listIds = state.listIds.filter((id) => id !== conv.id);
  } else if (!shown && belongs && !state.q) {
    state.listIds.push(conv.id);
  }
  sortIds(state.listIds);
  renderList();
  if (conv.id === state.current) {
    thread.setOtherRead(conv.client_read_seq || 0);
    renderHeader();
    if (state.profileOpen) renderProfilePane();
    if (old && old.assignee?.id !== conv.assignee?.id && conv.assignee && conv.assignee.id !== me.id) {
      toast(ui.toasts, `Диалог теперь ведёт ${conv.assignee.name}.`, "info", 3500);
    }
  }
}

function conversationLabel(conv) {
  return conv?.client?.label || (conv ? `Клиент #${conv.id}` : "Клиент");
}

function renderList() {
  const items = state.listIds.map((id) => state.convs.get(id)).filter(Boolean);
  const focused = ui.list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
  const scroll = ui.list.scrollTop;
  ui.list.replaceChildren(...items.map(listItem));
  ui.list.scrollTop = scroll;
  if (focused) {
    const again = ui.list.querySelector(`.conv-item[data-id="${focused}"]`);
    if (again) {
      for (const node of ui.list.children) node.tabIndex = -1;
      again.tabIndex = 0;
      again.focus({ preventScroll: true });
    }
  }
  ui.listEmpty.hidden = items.length > 0;
  const narrowed = state.q || state.tag || state.snoozed || Object.values(state.filters).some(Boolean);
  ui.listEmpty.textContent = narrowed ? "Ничего не найдено." : BOX_EMPTY[state.box];
  if (state.bulk) ui.list.setAttribute("aria-multiselectable", "true");
  else ui.list.removeAttribute("aria-multiselectable");
  renderCounts();
}

function listItem(conv) {
  const selected = conv.id === state.current;
  const last = conv.last_message;
  let preview = last?.preview || "Нет сообщений";
  const prefix = last?.author_kind === "staff" ? "Вы: " : last?.author_kind === "bot" ? "Бот: " : "";
  if (last?.author_kind === "staff" && conv.assignee && conv.assignee.id !== me.id) preview = `${conv.assignee.name}: ${preview}`;
  else preview = prefix + preview;
  const label = conversationLabel(conv);
  const meta = [];
  if (conv.topic) meta.push(el("span", { class: "chip" }, conv.topic.title));
  for (const tag of conv.tags || []) meta.push(el("span", { class: "chip chip-tag" }, `#${tag}`));
  meta.push(el("span", { class: `chip status-${conv.status}` }, STATUS_LABELS[conv.status] || conv.status));
  if (conv.client?.destroyed) meta.push(el("span", { class: "chip chip-destroyed" }, "данные уничтожены"));
  if (conv.assignee && state.box !== "mine") meta.push(el("span", { class: "chip chip-plain" }, conv.assignee.name));
  meta.push(...queueBadges(conv));
  const picked = state.bulk?.has(conv.id);
  const li = el(
    "li",
    {
      role: "option",
      class: `conv-item${selected ? " selected" : ""}${picked ? " picked" : ""}${conv.unread ? " has-unread" : ""}`,
      "aria-selected": (state.bulk ? picked : selected) ? "true" : "false",
      // One item is in the tab order: the open conversation, or the first when the open one
      // is not in this list (none, or snoozed out of it), so a list that scrolls is reachable.
      tabindex: selected || (!state.listIds.includes(state.current) && conv.id === state.listIds[0]) ? "0" : "-1",
      dataset: { id: String(conv.id) },
      onclick: () => {
        if (state.bulk) {
          togglePicked(conv.id);
          return;
        }
        openConversation(conv.id);
        if (!window.matchMedia("(hover: none)").matches) composer.focus();
      },
      onkeydown: (event) => listKeydown(event, conv.id),
    },
    avatarFor(label),
    el(
      "div",
      { class: "conv-item-body" },
      el(
        "div",
        { class: "conv-item-top" },
        el("strong", { class: "conv-item-name" }, label),
        el("time", { class: "conv-item-when", datetime: last?.at || conv.updated_at || "" }, shortWhen(last?.at || conv.updated_at || conv.created_at)),
      ),
      el(
        "div",
        { class: "conv-item-bottom" },
        el("span", { class: "conv-item-preview" }, preview),
        conv.unread ? el("span", { class: "unread-badge", "aria-label": `непрочитанных: ${conv.unread}` }, String(conv.unread)) : null,
      ),
      el("div", { class: "conv-item-meta" }, meta),
    ),
  );
  return li;
}

function listKeydown(event, id) {
  const items = [...ui.list.querySelectorAll(".conv-item")];
  const index = items.findIndex((node) => node.dataset.id === String(id));
  let next = null;
  if (event.key === "ArrowDown") next = items[index + 1];
  else if (event.key === "ArrowUp") next = items[index - 1];
  else if (event.key === "Home") next = items[0];
  else if (event.key === "End") next = items[items.length - 1];
  else if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    if (state.bulk) {
      togglePicked(id);
      return;
    }
    openConversation(id);
    composer.focus();
    return;
  } else return;
  event.preventDefault();
  if (next) {
    for (const node of items) node.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  }
}

/** The queue discipline's badges on a list item: how long it waits and its SLA timer (the
 * list is drawn again every minute, so the timer counts down). */
function queueBadges(conv) {
  const badges = [];
  const waiting = waitingLabel(conv);
  if (waiting) badges.push(el("span", { class: "chip chip-waiting" }, waiting));
  const sla = slaTimer(conv);
  if (sla) badges.push(el("span", { class: `chip chip-sla${sla.breached ? " breached" : ""}` }, sla.text));
  return badges;
}

function avatarFor(label) {
  const node = el("div", { class: "avatar", "aria-hidden": "true" }, initials(label.replace(/#\d+/, "").trim() || "К"));
  node.style.setProperty("--hue", String(hueOf(label)));
  return node;
}

function renderCounts() {
  const all = [...state.convs.values()];
  const queue = all.filter((c) => inBox(c, "queue")).length;
  const mineUnread = all.filter((c) => inBox(c, "mine")).reduce((sum, c) => sum + (c.unread || 0), 0);
  for (const tab of ui.tabs) {
    const count = tab.querySelector(".tab-count");
    const value = tab.dataset.box === "queue" ? queue : tab.dataset.box === "mine" ? mineUnread : 0;
    count.hidden = !value;
    count.textContent = String(value);
  }
  // The queue's size is said when it changes (not when the lists first load).
  if (state.queueSeen !== null && queue !== state.queueSeen) {
    ui.queueLive.textContent = queue ? `В очереди: ${queue}` : "Очередь пуста";
  }
  if (state.listsLoaded) state.queueSeen = queue;
  const total = queue + mineUnread;
  document.title = total ? `(${total}) ${baseTitle}` : baseTitle;
}

/** A sound and, in the background, a desktop notification for what the operator should not
 * miss: a new chat in the queue, a client's message in their own chat, a chat given to them.
 * Only summaries the socket sends arrive here, so only conversations they may see. */
function alertFor(conv, old) {
  const watching = conv.id === state.current && document.visibilityState === "visible";
  const open = () => openConversation(conv.id);
  const tag = `okno-${conv.id}`;
  const queued = !conv.assignee && conv.status !== "resolved" && !snoozedNow(conv);
  const mine = conv.assignee?.id === me.id;
  const last = conv.last_message;
  if (!old && queued) {
    alerts.sound("queue");
    const plain = conv.topic ? `${conversationLabel(conv)} ждёт в очереди: ${conv.topic.title}` : `${conversationLabel(conv)} ждёт в очереди`;
    alerts.desktop("Новое обращение", plain, last?.author_kind === "subject" ? last.preview : null, tag, open);
  } else if (mine && old?.assignee?.id !== me.id && !watching) {
    alerts.sound("transfer");
    alerts.desktop("Вам передан диалог", `${conversationLabel(conv)} теперь ваш`, last?.author_kind === "subject" ? last.preview : null, tag, open);
  } else if (mine && old && last?.author_kind === "subject" && last.seq > (old.last_message?.seq || 0) && !watching) {
    alerts.sound("mine");
    alerts.desktop("Новое сообщение", `${conversationLabel(conv)} написал(а) вам`, last.preview, tag, open);
  }
}

for (const tab of ui.tabs) {
  tab.addEventListener("click", () => selectBox(tab.dataset.box));
  tab.addEventListener("keydown", (event) => {
    const index = ui.tabs.indexOf(tab);
    let next = null;
    if (event.key === "ArrowRight") next = ui.tabs[(index + 1) % ui.tabs.length];
    else if (event.key === "ArrowLeft") next = ui.tabs[(index - 1 + ui.tabs.length) % ui.tabs.length];
    if (next) {
      event.preventDefault();
      next.focus();
      selectBox(next.dataset.box);
    }
  });
}

function selectBox(box) {
  state.box = box;
  for (const tab of ui.tabs) {
    const selected = tab.dataset.box === box;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
  try {
    localStorage.setItem("okno-box", box);
  } catch {
    // storage blocked
  }
  state.listIds = sortIds([...state.convs.values()].filter((c) => inBox(c, box) && !state.q).map((c) => c.id));
  renderList();
  loadList();
}

let searchTimer = null;
ui.search.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    state.q = ui.search.value.trim();
    loadList();
  }, 250);
});
ui.search.addEventListener("keydown", (event) => {
  if (event.key === "ArrowDown") {
    event.preventDefault();
    ui.list.querySelector(".conv-item")?.focus();
  }
});

// ---- the open conversation -------------------------------------------------------------------

/** The conversation the address names (#N): typed in the address bar, or back and forward. */
function followLocation() {
  const id = Number(location.hash.slice(1));
  if (id > 0) openConversation(id);
  else if (state.current) {
    send({ type: "leave", conversation: state.current });
    state.drafts.set(state.current, composer.input.value);
    closeConversation();
  }
}
window.addEventListener("hashchange", followLocation);
window.addEventListener("popstate", followLocation);

function openConversation(id) {
  if (state.current === id) {
    setView("conv");
    return;
  }
  if (state.current) {
    send({ type: "leave", conversation: state.current });
    state.drafts.set(state.current, composer.input.value);
  }
  state.current = id;
  state.version = 0;
  state.synced = false;
  state.batch = [];
  state.typingUntil = 0;
  state.viewers = [];
  state.colleagueTyping = null;
  thread.clear();
  // ✓✓ come from the server: what the client has read survives a reload of the console
  thread.setOtherRead(state.convs.get(id)?.client_read_seq || 0);
  composer.cancel();
  composer.setText(state.drafts.get(id) || "");
  state.drafts.delete(id);
  ui.internal.checked = false;
  ui.form.classList.remove("internal");
  ui.body.classList.add("loading");
  ui.msgs.setAttribute("aria-live", "off"); // the history is not announced, new messages are
  ui.empty.hidden = true;
  ui.active.hidden = false;
  send({ type: "open", conversation: id, after: 0 });
  if (location.hash !== `#${id}`) history.pushState(null, "", `#${id}`);
  setView("conv");
  renderList();
  renderHeader();
  if (state.profileOpen) renderProfilePane(true);
  if (!state.convs.has(id)) findSummary(id);
}

/** A conversation opened by its URL may be in no loaded box: find its summary by number. */
async function findSummary(id) {
  for (const box of seesAll ? ["all"] : ["team", "mine"]) {
    try {
      const found = (await fetchBox(box, String(id))).find((c) => c.id === id);
      if (found) {
        onSummary(found, { quiet: true });
        return;
      }
    } catch {
      return;
    }
  }
}

async function loadOlder(beforeSeq) {
  const id = state.current;
  const response = await fetch(`/api/staff/conversations/${id}/messages?before=${beforeSeq}&limit=${PAGE_SIZE}`, {
    headers: { accept: "application/json" },
  });
  if (!response.ok) throw new Error(String(response.status));
  const data = await response.json();
  if (id !== state.current) return false;
  const messages = Array.isArray(data) ? data : data.messages || [];
  thread.upsertMany(messages, { prepend: true });
  return messages.length >= PAGE_SIZE;
}

/** The open conversation's status, assignee and team, as its header shows them. */
function conversationStatus(conv) {
  if (!conv) return "";
  const parts = [STATUS_LABELS[conv.status] || conv.status];
  if (conv.client?.destroyed) parts.push("данные клиента уничтожены");
  if (conv.topic) parts.push(conv.topic.title);
  parts.push(conv.assignee ? (conv.assignee.id === me.id ? "ведёте вы" : `ведёт ${conv.assignee.name}`) : "не назначен");
  if (conv.team) parts.push(conv.team.name);
  return parts.join(" · ");
}

/** The console's status region: the connection and the open conversation's status, said
 * once when they change (the header's typing indicator is not announced). */
function announceStatus() {
  let text = "";
  if (state.connection !== "open") text = state.everOpen ? "Нет соединения, переподключаемся" : "";
  else if (state.convs.has(state.current)) text = `Диалог: ${conversationStatus(state.convs.get(state.current))}`;
  if (ui.live.textContent !== text) ui.live.textContent = text;
}

function renderHeader() {
  const conv = state.convs.get(state.current);
  if (!state.current) return;
  const label = conversationLabel(conv);
  ui.title.textContent = label;
  // A MAX or VK client's conversation: marks of what reached the messenger (deliveries.js).
  const messenger = conv?.client?.channel ? state.current : null;
  if (state.deliveriesFor !== messenger) {
    state.deliveriesFor = messenger;
    watchDeliveries(messenger, ui.msgs);
  }
  ui.avatar.textContent = initials(label.replace(/#\d+/, "").trim() || "К");
  ui.avatar.style.setProperty("--hue", String(hueOf(label)));
  let sub;
  let cls = "";
  if (state.connection !== "open") {
    sub = "соединение…";
    cls = "is-offline";
  } else if (state.typingUntil > Date.now()) {
    sub = "печатает…";
    cls = "is-typing";
  } else {
    sub = conversationStatus(conv);
  }
  ui.sub.textContent = sub;
  ui.sub.className = `chat-status conv-sub ${cls}`.trim();
  announceStatus();
  if (cls === "is-typing") ui.sub.append(el("span", { class: "typing-dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")));

  const mine = conv?.assignee?.id === me.id;
  // A destroyed client has nobody to answer: the conversation is only history now.
  const destroyed = Boolean(conv?.client?.destroyed);
  ui.take.hidden = !conv || destroyed || mine || (conv.assignee && !seesAll);
  ui.take.textContent = conv?.assignee ? "Взять себе" : "Взять";
  ui.transfer.hidden = !conv || destroyed;
  ui.requestButton.hidden = !conv || destroyed;
  ui.statusButton.hidden = !conv || destroyed;
  ui.form.hidden = destroyed;
  ui.destroyed.hidden = !destroyed;
  ui.statusButton.textContent = "";
  ui.statusButton.append(
    el("span", { class: `status-dot status-${conv?.status || "new"}`, "aria-hidden": "true" }),
    STATUS_LABELS[conv?.status] || "Статус",
    icon("down"),
  );
  ui.statusButton.setAttribute("aria-label", `Статус: ${STATUS_LABELS[conv?.status] || "—"}. Изменить`);
  ui.snoozeButton.hidden = !conv;
  ui.snoozedNote.hidden = !snoozedNow(conv);
  if (snoozedNow(conv)) ui.snoozedNote.textContent = snoozedText(conv);
  renderTags(conv);
  renderColleagues();
}

/** Colleagues who have this conversation open too, and whether one of them is writing. */
function renderColleagues() {
  const typing = state.colleagueTyping && state.colleagueTyping.until > Date.now() ? state.colleagueTyping.name : null;
  const names = state.viewers.map((viewer) => viewer.name);
  ui.colleagues.hidden = !state.current || (!names.length && !typing);
  const parts = [];
  if (names.length) parts.push(`Также открыт у: ${names.join(", ")}`);
  if (typing) parts.push(`${typing} печатает ответ…`);
  ui.colleagues.textContent = parts.join(" · ");
}

// ---- triage: filters, order, snooze, bulk actions -------------------------------------------

function renderFiltersCount() {
  const count = Object.values(state.filters).filter(Boolean).length + (state.snoozed ? 1 : 0) + (state.sort !== "auto" ? 1 : 0);
  ui.filtersCount.hidden = !count;
  ui.filtersCount.textContent = count ? `(${count})` : "";
}

for (const select of ui.filters) {
  select.addEventListener("change", () => {
    state.filters = { ...state.filters, [select.dataset.filter]: select.value };
    renderFiltersCount();
    loadList();
  });
}
ui.snoozedFilter.addEventListener("change", () => {
  state.snoozed = ui.snoozedFilter.checked;
  renderFiltersCount();
  loadList();
});
ui.sortOrder.addEventListener("change", () => {
  state.sort = ui.sortOrder.value;
  renderFiltersCount();
  sortIds(state.listIds);
  renderList();
});

ui.snoozeButton.addEventListener("click", () => {
  const conv = state.convs.get(state.current);
  if (!conv) return;
  const id = conv.id;
  const done = async (until) => {
    try {
      const answer = await snooze(id, until);
      const saved = state.convs.get(id);
      if (saved) onSummary({ ...saved, snoozed_until: answer.until }, { quiet: true });
      toast(ui.toasts, until ? snoozedText({ snoozed_until: answer.until }) : "Диалог снова в списках.", "info", 4000);
    } catch (error) {
      toast(ui.toasts, error.message);
    }
  };
  const items = snoozeChoices().map(([label, until]) => ({ label, icon: "clock", action: () => done(until) }));
  items.push({
    label: "Выбрать время…",
    icon: "clock",
    action: async () => {
      const until = await pickTime(ui.snoozeButton);
      if (until) done(until);
    },
  });
  if (snoozedNow(conv)) items.unshift({ label: "Вернуть в список сейчас", icon: "retry", action: () => done(null) });
  openMenu(items, ui.snoozeButton);
});

function togglePicked(id) {
  if (state.bulk.has(id)) state.bulk.delete(id);
  else state.bulk.add(id);
  renderBulk();
  renderList();
}

function renderBulk() {
  if (!ui.bulkBar) return;
  ui.bulkToggle.setAttribute("aria-pressed", String(Boolean(state.bulk)));
  ui.bulkToggle.textContent = state.bulk ? "Готово, выбор закрыть" : "Выбрать несколько";
  ui.bulkBar.hidden = !state.bulk;
  root.classList.toggle("bulk-mode", Boolean(state.bulk));
  if (state.bulk) ui.bulkBar.querySelector(".bulk-count").textContent = `Выбрано: ${state.bulk.size}`;
}

async function runBulk(action, extra = {}) {
  const ids = [...(state.bulk || [])];
  if (!ids.length) {
    toast(ui.toasts, "Сначала выберите диалоги в списке.", "info", 3000);
    return;
  }
  try {
    const { text, failed } = bulkSummary(await bulk(ids, action, extra));
    toast(ui.toasts, text, failed ? "error" : "info", 6000);
    state.bulk = new Set();
    renderBulk();
    loadList();
  } catch (error) {
    toast(ui.toasts, error.message);
  }
}

if (ui.bulkBar) {
  ui.bulkToggle.addEventListener("click", () => {
    state.bulk = state.bulk ? null : new Set();
    renderBulk();
    renderList();
  });
  ui.bulkBar.querySelector(".bulk-assign").addEventListener("click", () => runBulk("assign", { to_staff: Number(ui.bulkBar.querySelector(".bulk-staff").value) }));
  ui.bulkBar.querySelector(".bulk-resolve").addEventListener("click", () => runBulk("resolve"));
  ui.bulkBar.querySelector(".bulk-add-tag").addEventListener("click", () => {
    const tag = ui.bulkBar.querySelector(".bulk-tag").value.trim().toLowerCase();
    if (!TAG_PATTERN.test(tag)) {
      toast(ui.toasts, "Метка: строчные буквы, цифры, _ и -, до 30 символов.");
      return;
    }
    runBulk("tag", { tag });
  });
}

ui.alertsButton.addEventListener("click", () => alerts.openSettings(ui.alertsButton));

// ---- tags: set and removed on the conversation's header, a filter over the lists ----------

const TAG_PATTERN = /^[a-zа-яё0-9_-]{1,30}$/;

function renderTags(conv) {
  const tags = conv?.tags || [];
  ui.tagList.replaceChildren(
    ...tags.map((tag) =>
      el(
        "li",
        { class: "chip chip-tag" },
        `#${tag}`,
        el("button", { type: "button", class: "link tag-remove", "aria-label": `Убрать метку ${tag}`, onclick: () => saveTags(conv.id, tags.filter((t) => t !== tag)) }, "×"),
      ),
    ),
  );
}

function renderTagOptions() {
  const known = new Set();
  for (const conv of state.convs.values()) for (const tag of conv.tags || []) known.add(tag);
  ui.tagOptions.replaceChildren(...[...known].sort().map((tag) => el("option", { value: tag })));
}

async function saveTags(id, tags) {
  const response = await fetch(`/api/staff/conversations/${id}/tags`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": csrfToken(), accept: "application/json" },
    body: JSON.stringify({ tags }),
  });
  if (!response.ok) {
    toast(ui.toasts, response.status === 400 ? "Метка: строчные буквы, цифры, _ и -, до 30 символов; не больше 10 меток." : "Не удалось сохранить метки.");
    return false;
  }
  const saved = await response.json();
  const conv = state.convs.get(id);
  if (conv) {
    state.convs.set(id, { ...conv, tags: saved.tags });
    if (state.tag && !saved.tags.includes(state.tag)) state.listIds = state.listIds.filter((x) => x !== id);
    renderList();
    renderTagOptions();
    if (id === state.current) renderTags(state.convs.get(id));
  }
  return true;
}

ui.tagAdd.addEventListener("submit", async (event) => {
  event.preventDefault();
  const conv = state.convs.get(state.current);
  const tag = ui.tagInput.value.trim().toLowerCase();
  if (!conv || !tag) return;
  if (!TAG_PATTERN.test(tag)) {
    toast(ui.toasts, "Метка: строчные буквы, цифры, _ и -, до 30 символов.");
    return;
  }
  if ((conv.tags || []).includes(tag) || (await saveTags(conv.id, [...(conv.tags || []), tag]))) ui.tagInput.value = "";
});

let tagTimer = 0;
ui.tagFilter.addEventListener("input", () => {
  clearTimeout(tagTimer);
  tagTimer = setTimeout(() => {
    const tag = ui.tagFilter.value.trim().toLowerCase();
    if (tag && !TAG_PATTERN.test(tag)) return;
    state.tag = tag;
    loadList();
  }, 250);
});

ui.take.addEventListener("click", () => {
  if (state.current) send({ type: "take", conversation: state.current });
});

ui.statusButton.addEventListener("click", () => {
  const conv = state.convs.get(state.current);
  if (!conv) return;
  const items = [];
  if (conv.status !== "open" && conv.status !== "new") {
    items.push({ label: "Открыть снова", icon: "retry", action: () => setStatus("open") });
  }
  if (conv.status !== "pending") {
    items.push({ label: "Ждёт ответа клиента", icon: "clock", action: () => setStatus("pending") });
  }
  if (conv.status !== "resolved") {
    items.push({ label: "Решён — закрыть", icon: "check", action: () => setStatus("resolved") });
  }
  openMenu(items, ui.statusButton);
});

// Fields the bot may ask for in the chat (the registry's collectable_in_chat ones); the server
// refuses any without a consent whose purpose allows it.
const REQUESTABLE = [
  ["name", "Имя"],
  ["phone", "Телефон"],
  ["email", "Электронная почта"],
  ["city", "Город"],
  ["order_number", "Номер заказа или договора"],
];

ui.requestButton.addEventListener("click", () => {
  const conversation = state.current;
  if (!conversation) return;
  const items = [
    {
      label: "Предложить согласие на обработку ПДн",
      icon: "note",
      action: () => send({ type: "offer_consent", conversation, purpose: "support" }),
    },
    {
      label: "Предложить рекламные рассылки",
      icon: "chat",
      action: () => send({ type: "offer_consent", conversation, purpose: "advertising-chat" }),
    },
    {
      label: "Предложить рекламные письма на почту",
      icon: "chat",
      action: () => send({ type: "offer_consent", conversation, purpose: "advertising-email" }),
    },
    ...REQUESTABLE.map(([field, label]) => ({
      label: `Запросить: ${label}`,
      icon: "user",
      action: () => send({ type: "request_field", conversation, field }),
    })),
  ];
  openMenu(items, ui.requestButton);
});

function setStatus(status) {
  send({ type: "status", conversation: state.current, status });
}

ui.transfer.addEventListener("click", () => openTransfer());

async function loadDirectory() {
  const response = await fetch("/api/staff/directory", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(String(response.status));
  state.directory = await response.json();
  return state.directory;
}

async function openTransfer() {
  const conversation = state.current;
  let directory;
  try {
    directory = await loadDirectory();
  } catch {
    toast(ui.toasts, "Не удалось загрузить список сотрудников.");
    return;
  }
  const teamsById = new Map((directory.teams || []).map((t) => [t.id, t.name]));
  const close = el("button", { type: "button", class: "icon-button", "aria-label": "Закрыть", onclick: () => dialog.close() }, icon("close"));
  const choose = (frame, label) => {
    send({ type: "transfer", conversation, ...frame });
    dialog.close();
    toast(ui.toasts, `Диалог передан: ${label}.`, "info", 3000);
  };
  const teamButtons = (directory.teams || []).map((team) =>
    el(
      "li",
      {},
      el(
        "button",
        { type: "button", class: "pick", onclick: () => choose({ to_team: team.id }, team.name) },
        el("span", { class: "avatar avatar-team", "aria-hidden": "true" }, initials(team.name)),
        el("span", { class: "pick-body" }, el("strong", {}, team.name), el("span", { class: "muted" }, "в очередь команды")),
      ),
    ),
  );
  const staffButtons = (directory.staff || [])
    .filter((s) => s.id !== me.id)
    .sort((a, b) => (a.presence === "online" ? 0 : 1) - (b.presence === "online" ? 0 : 1) || a.name.localeCompare(b.name))
    .map((person) => {
      const avatar = el("span", { class: `avatar${person.presence === "online" ? " online" : ""}`, "aria-hidden": "true" }, initials(person.name));
      avatar.style.setProperty("--hue", String(hueOf(person.name)));
      const teams = (person.teams || []).map((id) => teamsById.get(id)).filter(Boolean).join(", ");
      const presence = person.presence === "online" ? "в сети" : person.presence === "away" ? "отошёл" : "не в сети";
      return el(
        "li",
        {},
        el(
          "button",
          { type: "button", class: "pick", onclick: () => choose({ to_staff: person.id }, person.name) },
          avatar,
          el("span", { class: "pick-body" }, el("strong", {}, person.name), el("span", { class: "muted" }, [presence, teams].filter(Boolean).join(" · "))),
        ),
      );
    });
  const dialog = el(
    "dialog",
    { class: "okno-dialog transfer-dialog", "aria-labelledby": "transfer-title" },
    el("header", { class: "dialog-head" }, el("h2", { id: "transfer-title" }, "Передать диалог"), close),
    teamButtons.length ? el("h3", {}, "Команде") : null,
    teamButtons.length ? el("ul", { class: "pick-list" }, teamButtons) : null,
    el("h3", {}, "Сотруднику"),
    staffButtons.length ? el("ul", { class: "pick-list" }, staffButtons) : el("p", { class: "muted" }, "Других сотрудников нет."),
  );
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  dialog.querySelector(".pick")?.focus();
}

// ---- the profile pane ------------------------------------------------------------------------

let profileRequest = 0;
async function renderProfilePane(fetchProfile = false) {
  ui.profile.hidden = !state.profileOpen || !state.current;
  ui.profileButton.setAttribute("aria-pressed", String(state.profileOpen));
  root.classList.toggle("with-profile", state.profileOpen && Boolean(state.current));
  if (!state.profileOpen || !state.current) return;
  const conv = state.convs.get(state.current);
  if (!fetchProfile && ui.profileContent.dataset.id === String(state.current)) {
    renderProfile(ui.profileContent, conv, state.profileData, STATUS_LABELS);
    return;
  }
  const request = ++profileRequest;
  const id = state.current;
  ui.profileContent.dataset.id = String(id);
  state.profileData = null;
  renderProfile(ui.profileContent, conv, null, STATUS_LABELS);
  try {
    const response = await fetch(`/api/staff/conversations/${id}/profile`, { headers: { accept: "application/json" } });
    if (request !== profileRequest) return;
    state.profileData = response.ok ? await response.json() : { error: response.status };
  } catch {
    state.profileData = { error: 0 };
  }
  if (request === profileRequest) renderProfile(ui.profileContent, state.convs.get(id), state.profileData, STATUS_LABELS);
}

function toggleProfile(open) {
  state.profileOpen = open;
  try {
    localStorage.setItem("okno-profile", open ? "1" : "0");
  } catch {
    // storage blocked
  }
  renderProfilePane(open && ui.profileContent.dataset.id !== String(state.current));
  if (open) setView("profile");
  else setView("conv");
}

ui.profileButton.addEventListener("click", () => toggleProfile(!state.profileOpen));
ui.profileClose.addEventListener("click", () => {
  toggleProfile(false);
  ui.profileButton.focus();
});

// ---- presence, views, keys -------------------------------------------------------------------

function renderPresence() {
  const online = state.presence === "online";
  ui.presence.setAttribute("aria-pressed", String(online));
  ui.presence.classList.toggle("away", !online);
  ui.presence.querySelector(".presence-label").textContent = online ? "В сети" : "Отошёл";
  ui.presence.setAttribute("aria-label", online ? "Мой статус: в сети. Нажмите, чтобы отойти" : "Мой статус: отошёл. Нажмите, чтобы вернуться");
  ui.meAvatar.classList.toggle("online", online);
}

ui.presence.addEventListener("click", () => {
  state.presence = state.presence === "online" ? "away" : "online";
  try {
    localStorage.setItem("okno-presence", state.presence);
  } catch {
    // storage blocked
  }
  send({ type: "presence", status: state.presence });
  renderPresence();
});

root.querySelector(".canned-manage").addEventListener("click", async () => {
  await canned.load();
  canned.manage();
});

/** On narrow screens one pane shows at a time: the list, the conversation, or the profile. */
function setView(view) {
  root.dataset.view = view;
}

ui.back.addEventListener("click", () => {
  setView("list");
  ui.list.querySelector(".conv-item.selected")?.focus();
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && root.dataset.view === "profile" && window.innerWidth < 1200) {
    toggleProfile(false);
  }
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
    event.preventDefault();
    setView("list");
    ui.search.focus();
  }
});

setInterval(() => {
  renderHeader();
  renderList();
}, 60000);

window.okno = { socket, thread, state };

// ---- start -----------------------------------------------------------------------------------

try {
  const saved = localStorage.getItem("okno-box");
  if (saved && ui.tabs.some((t) => t.dataset.box === saved)) state.box = saved;
} catch {
  // storage blocked
}
for (const tab of ui.tabs) {
  const selected = tab.dataset.box === state.box;
  tab.setAttribute("aria-selected", String(selected));
  tab.tabIndex = selected ? 0 : -1;
}
renderPresence();
canned.load();
alerts.load();
const fromHash = Number(location.hash.slice(1));
if (fromHash > 0) openConversation(fromHash); // the open frame goes out when the socket opens
socket.connect();
