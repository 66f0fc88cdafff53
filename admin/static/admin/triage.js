// Triage in the operator console: how long a queued chat waits, its SLA timer, snoozing
// («отложить до …»), and a supervisor's bulk actions (POST /api/staff/conversations/bulk).

import { csrfToken, el, icon, plural } from "/static/web/dom.js";

/** «ждёт 12 мин» for a conversation in the queue (``waiting_since`` set), else null. */
export function waitingLabel(conv, now = Date.now()) {
  if (!conv.waiting_since) return null;
  const minutes = Math.max(0, Math.floor((now - new Date(conv.waiting_since).getTime()) / 60000));
  if (minutes < 1) return "ждёт меньше минуты";
  if (minutes < 60) return `ждёт ${minutes} мин`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `ждёт ${hours} ${plural(hours, "час", "часа", "часов")}`;
  const days = Math.floor(hours / 24);
  return `ждёт ${days} ${plural(days, "день", "дня", "дней")}`;
}

function minutesText(ms) {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  if (minutes < 1) return "меньше минуты";
  if (minutes < 60) return `${minutes} мин`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} ч ${minutes % 60} мин` : `${hours} ч`;
  const days = Math.floor(hours / 24);
  return `${days} ${plural(days, "день", "дня", "дней")}`;
}

/** The SLA timer of a conversation not resolved (``conv.sla``, worked out by the server in
 * working time): the passed target, in red, or the nearest one counting down; null without
 * targets. A due time passing between two summaries counts as passed too. */
export function slaTimer(conv, now = Date.now()) {
  const sla = conv.sla;
  if (!sla || conv.status === "resolved") return null;
  const targets = [
    ["первый ответ", sla.first_response_due, sla.first_response_breached],
    ["решение", sla.resolution_due, sla.resolution_breached],
  ]
    .filter(([, due]) => due)
    .map(([what, due, breached]) => ({ what, due: new Date(due).getTime(), breached }));
  const passed = targets.find((t) => t.breached || t.due <= now);
  if (passed) return { breached: true, text: `SLA нарушен: ${passed.what}, ${minutesText(now - passed.due)} назад` };
  const next = targets.sort((a, b) => a.due - b.due)[0];
  return next ? { breached: false, text: `SLA: ${next.what} через ${minutesText(next.due - now)}` } : null;
}

/** Whether a snooze keeps the conversation out of the lists now. */
export function snoozedNow(conv, now = Date.now()) {
  return Boolean(conv?.snoozed_until) && new Date(conv.snoozed_until).getTime() > now;
}

export function snoozedText(conv) {
  const until = new Date(conv.snoozed_until);
  const when = until.toLocaleString("ru-RU", { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
  return `Отложен до ${when}: в списках появится в это время.`;
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": csrfToken(), accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail || "Не удалось выполнить действие.");
  return data;
}

export function snooze(id, until) {
  return postJson(`/api/staff/conversations/${id}/snooze`, { until: until ? until.toISOString() : null });
}

export function bulk(ids, action, extra = {}) {
  return postJson("/api/staff/conversations/bulk", { ids, action, ...extra });
}

/** The snooze menu's choices: an hour, three, tomorrow morning, a time of one's own. */
export function snoozeChoices(now = new Date()) {
  const inHours = (hours) => new Date(now.getTime() + hours * 3600000);
  const tomorrow = new Date(now);
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  return [
    ["На 1 час", inHours(1)],
    ["На 3 часа", inHours(3)],
    ["До завтра, 9:00", tomorrow],
  ];
}

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A dialog asking until when; resolves a Date, or null when cancelled. */
export function pickTime(opener) {
  return new Promise((resolve) => {
    const input = el("input", { type: "datetime-local", id: "snooze-until", required: true, value: localInputValue(new Date(Date.now() + 3600000)) });
    const error = el("p", { class: "form-error", role: "alert", hidden: true });
    let chosen = null;
    const form = el(
      "form",
      { class: "snooze-form" },
      el("label", { for: "snooze-until" }, "Вернуть в список"),
      input,
      error,
      el("div", { class: "dialog-actions" }, el("button", { type: "button", onclick: () => dialog.close() }, "Отмена"), el("button", { type: "submit", class: "primary" }, "Отложить")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const when = new Date(input.value);
      if (Number.isNaN(when.getTime()) || when.getTime() <= Date.now()) {
        error.textContent = "Выберите время в будущем.";
        error.hidden = false;
        return;
      }
      chosen = when;
      dialog.close();
    });
    const close = el("button", { type: "button", class: "icon-button", "aria-label": "Закрыть", onclick: () => dialog.close() }, icon("close"));
    const dialog = el(
      "dialog",
      { class: "okno-dialog snooze-dialog", "aria-labelledby": "snooze-title" },
      el("header", { class: "dialog-head" }, el("h2", { id: "snooze-title" }, "Отложить диалог"), close),
      form,
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      opener?.focus();
      resolve(chosen);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

/** What a bulk action's answer says, in one sentence. */
export function bulkSummary(result) {
  const outcomes = result.outcomes || [];
  const done = outcomes.filter((o) => o.done).length;
  const failed = outcomes.filter((o) => !o.done);
  let text = `Готово: ${done} из ${outcomes.length}.`;
  if (failed.length) text += ` Не удалось: ${failed.map((o) => `#${o.id} — ${o.detail}`).join("; ")}.`;
  return { text, failed: failed.length };
}
