// The client profile side panel: the conversation's facts and the client's PD fields
// (GET /api/staff/conversations/{id}/profile; the server logs each look as access).

import { el, formatShort, hueOf, initials } from "/static/web/dom.js";

const CATEGORY_LABELS = {
  contact: "Контакты",
  identity: "Личность",
  common: "Общие",
  special: "Специальные",
  biometric: "Биометрические",
};

export function renderProfile(container, conv, data, statusLabels) {
  const label = data?.label || conv?.client?.label || "Клиент";
  const avatar = el("div", { class: "avatar avatar-xl", "aria-hidden": "true" }, initials(label.replace(/#\d+/, "").trim() || "К"));
  avatar.style.setProperty("--hue", String(hueOf(label)));
  const nodes = [
    el("div", { class: "profile-card" }, avatar, el("strong", { class: "profile-name" }, label)),
  ];

  const facts = [];
  if (conv) {
    facts.push(["Статус", statusLabels[conv.status] || conv.status]);
    if (conv.topic) facts.push(["Тема", conv.topic.title]);
    facts.push(["Ведёт", conv.assignee ? conv.assignee.name : "не назначен"]);
    if (conv.team) facts.push(["Команда", conv.team.name]);
    if (conv.created_at) facts.push(["Обращение с", formatShort(conv.created_at)]);
  }
  if (data && !data.error) {
    if (data.created_at) facts.push(["Клиент с", formatShort(data.created_at)]);
    if (typeof data.conversations === "number") {
      facts.push(["Всего обращений", String(data.conversations)]);
    }
  }
  nodes.push(definitionList(facts));

  nodes.push(el("h3", { class: "profile-section" }, "Персональные данные"));
  if (!data) {
    nodes.push(el("p", { class: "muted profile-loading" }, "Загрузка…"));
  } else if (data.error) {
    nodes.push(
      el(
        "p",
        { class: "muted" },
        data.error === 403 || data.error === 404 ? "Профиль этого клиента вам недоступен." : "Не удалось загрузить профиль.",
      ),
    );
  } else if (!data.fields || !data.fields.length) {
    nodes.push(
      el(
        "p",
        { class: "muted" },
        "Данных нет. Контакты клиент сообщает только после согласия на обработку персональных данных.",
      ),
    );
  } else {
    const groups = new Map();
    for (const field of data.fields) {
      const key = field.category || "";
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push([field.label || field.name, field.value ?? "—"]);
    }
    for (const [category, rows] of groups) {
      if (groups.size > 1 && category) nodes.push(el("p", { class: "profile-category" }, CATEGORY_LABELS[category] || category));
      nodes.push(definitionList(rows, true));
    }
  }
  nodes.push(el("p", { class: "profile-legal" }, "Просмотр профиля записывается в журнал обработки персональных данных."));
  container.replaceChildren(...nodes);
}

function definitionList(rows, copyable = false) {
  const dl = el("dl", { class: "facts" });
  for (const [term, value] of rows) {
    dl.append(el("dt", {}, term), el("dd", { class: copyable ? "copyable" : "" }, String(value)));
  }
  return dl;
}
