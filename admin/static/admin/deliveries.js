// Delivery marks for a conversation with a MAX or VK client: next to each message sent to the
// messenger, ⏳ while it waits, ✓ once the messenger accepted it, or «не доставлено» with the
// reason. Read from /api/staff/conversations/{id}/deliveries while the conversation is open.

import { el } from "/static/web/dom.js";

const EVERY_MS = 3000;
let timer = 0;

async function refresh(conversation, list) {
  let rows;
  try {
    const answer = await fetch(`/api/staff/conversations/${conversation}/deliveries`, {
      headers: { accept: "application/json" },
    });
    if (!answer.ok) return;
    rows = await answer.json();
  } catch {
    return; // offline for a moment: the next round shows it
  }
  for (const row of rows) {
    const meta = list.querySelector(`li[data-seq="${row.seq}"] .meta`);
    if (!meta) continue;
    const text = row.state === "failed" ? `${row.mark}: ${row.reason || "причина неизвестна"}` : row.mark;
    const label = { queued: "ждёт отправки в мессенджер", sent: "принято мессенджером", failed: "не доставлено в мессенджер" }[row.state];
    let mark = meta.querySelector(".delivery-mark");
    if (!mark) {
      mark = el("span", { class: "delivery-mark" });
      meta.append(mark);
    }
    if (mark.textContent !== text) {
      mark.textContent = text;
      mark.title = label;
      mark.setAttribute("aria-label", row.state === "failed" ? text : label);
      mark.classList.toggle("failed", row.state === "failed");
    }
  }
}

/** Show the marks of ``conversation`` in ``list`` (the thread's list), or stop (null). */
export function watchDeliveries(conversation, list) {
  clearInterval(timer);
  timer = 0;
  if (!conversation) return;
  refresh(conversation, list);
  timer = setInterval(() => refresh(conversation, list), EVERY_MS);
}
