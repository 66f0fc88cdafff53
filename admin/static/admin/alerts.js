// The console's notifications: a sound for a new chat in the queue, a new message in one's own
// chats and a chat given to oneself (each switchable, with a volume), and desktop
// notifications. The preferences are the operator's, kept on the server
// (GET/POST /api/staff/preferences). Sounds are made here with WebAudio: nothing is fetched.

import { csrfToken, el, icon } from "/static/web/dom.js";

export const DEFAULTS = {
  sound_queue: true,
  sound_mine: true,
  sound_transfer: true,
  volume: 60,
  desktop: true,
  desktop_details: false,
};

// Each event has its own short tune (frequencies in Hz, each note 0.14 s).
const TUNES = {
  queue: [660, 880],
  mine: [880],
  transfer: [523, 659, 784],
};

const SOUND_SETTINGS = [
  ["sound_queue", "queue", "Новый диалог в очереди"],
  ["sound_mine", "mine", "Новое сообщение в моих диалогах"],
  ["sound_transfer", "transfer", "Диалог передан мне"],
];

export class Alerts {
  constructor({ onError }) {
    this.prefs = { ...DEFAULTS };
    this.onError = onError;
    this.audio = null;
    // Browsers keep audio silent until the page is used once: the first click or key wakes it,
    // so later sounds play in a background tab too.
    const wake = () => this.context()?.resume?.();
    document.addEventListener("pointerdown", wake, { once: true, capture: true });
    document.addEventListener("keydown", wake, { once: true, capture: true });
  }

  async load() {
    try {
      const response = await fetch("/api/staff/preferences", { headers: { accept: "application/json" } });
      if (response.ok) this.prefs = { ...DEFAULTS, ...(await response.json()) };
    } catch {
      // the defaults stand
    }
  }

  async save(prefs) {
    const response = await fetch("/api/staff/preferences", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrfToken(), accept: "application/json" },
      body: JSON.stringify(prefs),
    });
    if (!response.ok) throw new Error(String(response.status));
    this.prefs = { ...DEFAULTS, ...(await response.json()) };
  }

  context() {
    if (!this.audio) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      this.audio = new Context();
    }
    return this.audio;
  }

  /** Play the tune of ``kind`` (queue, mine, transfer) if the operator wants it. */
  sound(kind, { force = false } = {}) {
    const setting = SOUND_SETTINGS.find(([, k]) => k === kind)?.[0];
    if (!force && (!setting || !this.prefs[setting])) return;
    const volume = Math.max(0, Math.min(100, this.prefs.volume)) / 100;
    if (!volume) return;
    const audio = this.context();
    if (!audio) return;
    if (audio.state === "suspended") audio.resume?.();
    let at = audio.currentTime + 0.01;
    for (const frequency of TUNES[kind]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.4 * volume, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.14);
      osc.connect(gain).connect(audio.destination);
      osc.start(at);
      osc.stop(at + 0.15);
      at += 0.16;
    }
  }

  /** A desktop notification while the console is in the background: ``details`` (the client's
   * words, which may hold PD) only if the operator opted in. */
  desktop(title, plain, details, tag, onClick) {
    if (!this.prefs.desktop || document.visibilityState === "visible") return;
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const body = this.prefs.desktop_details && details ? details : plain;
    const shown = new Notification(title, { body, tag, silent: true });
    shown.onclick = () => {
      window.focus();
      onClick?.();
      shown.close();
    };
  }

  /** The settings dialog: the operator's choices, saved on the server. */
  openSettings(opener) {
    const prefs = { ...this.prefs };
    const close = el("button", { type: "button", class: "icon-button", "aria-label": "Закрыть", onclick: () => dialog.close() }, icon("close"));
    const soundRows = SOUND_SETTINGS.map(([key, kind, label]) =>
      el(
        "div",
        { class: "alert-row" },
        el("label", { class: "check-row" }, el("input", { type: "checkbox", name: key, checked: prefs[key] }), label),
        el("button", { type: "button", class: "link", onclick: () => this.sound(kind, { force: true }) }, "Прослушать"),
      ),
    );
    const volume = el("input", { type: "range", name: "volume", min: "0", max: "100", step: "5", value: String(prefs.volume) });
    const permission = el("p", { class: "muted alerts-permission" });
    const ask = el("button", { type: "button", class: "alerts-ask" }, "Разрешить уведомления на рабочем столе");
    const renderPermission = () => {
      const supported = "Notification" in window;
      const state = supported ? Notification.permission : "unsupported";
      ask.hidden = state !== "default";
      permission.textContent = {
        granted: "Браузер показывает уведомления okno.",
        denied: "Браузер запретил уведомления okno: разрешите их в настройках сайта.",
        default: "Браузер спросит разрешение, когда вы нажмёте кнопку.",
        unsupported: "Этот браузер не показывает уведомления.",
      }[state];
    };
    ask.addEventListener("click", async () => {
      await Notification.requestPermission();
      renderPermission();
    });
    renderPermission();
    const form = el(
      "form",
      { class: "alerts-form" },
      el("fieldset", {}, el("legend", {}, "Звук"), ...soundRows, el("label", { class: "volume-row" }, "Громкость", volume)),
      el(
        "fieldset",
        {},
        el("legend", {}, "На рабочем столе"),
        el("label", { class: "check-row" }, el("input", { type: "checkbox", name: "desktop", checked: prefs.desktop }), "Уведомлять, когда вкладка в фоне"),
        el(
          "label",
          { class: "check-row" },
          el("input", { type: "checkbox", name: "desktop_details", checked: prefs.desktop_details }),
          "Показывать текст сообщения клиента (в нём могут быть персональные данные)",
        ),
        ask,
        permission,
      ),
      el("div", { class: "dialog-actions" }, el("button", { type: "button", onclick: () => dialog.close() }, "Отмена"), el("button", { type: "submit", class: "primary" }, "Сохранить")),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const wanted = { volume: Number(volume.value) };
      for (const key of ["sound_queue", "sound_mine", "sound_transfer", "desktop", "desktop_details"]) {
        wanted[key] = form.elements[key].checked;
      }
      try {
        await this.save(wanted);
        dialog.close();
      } catch {
        this.onError("Не удалось сохранить настройки уведомлений.");
      }
    });
    const dialog = el(
      "dialog",
      { class: "okno-dialog alerts-dialog", "aria-labelledby": "alerts-title" },
      el("header", { class: "dialog-head" }, el("h2", { id: "alerts-title" }, "Уведомления"), close),
      form,
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      opener?.focus();
    });
    document.body.append(dialog);
    dialog.showModal();
    form.querySelector("input")?.focus();
  }
}
