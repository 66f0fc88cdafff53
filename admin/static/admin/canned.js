// Canned replies: type "/" and a shortcut in the composer, pick with arrows and Enter or Tab.
// A dialog lists, adds and deletes them (POST/DELETE /api/staff/canned with x-csrf-token).

import { csrfToken, el, icon } from "/static/web/dom.js";

export class Canned {
  constructor(popup, input, { canShare, onInsert, onError }) {
    this.popup = popup;
    this.input = input;
    this.canShare = canShare;
    this.onInsert = onInsert;
    this.onError = onError;
    this.items = [];
    this.matches = [];
    this.active = 0;
    this.popup.id = "canned-popup";
    // A textarea cannot be a combobox, so no aria-expanded (not allowed on a textbox): the
    // popup is tied to it by aria-controls, and the chosen option by aria-activedescendant.
    input.setAttribute("aria-controls", this.popup.id);
    input.addEventListener("input", () => this.refresh());
    input.addEventListener("blur", () => setTimeout(() => this.hide(), 150));
  }

  async load() {
    try {
      const response = await fetch("/api/staff/canned", { headers: { accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      this.items = Array.isArray(data) ? data : data.canned || data.items || [];
    } catch {
      // offline: try again on the next open
    }
  }

  get open() {
    return !this.popup.hidden;
  }

  query() {
    const value = this.input.value;
    const match = /^\/(\S*)$/.exec(value);
    return match ? match[1].toLowerCase() : null;
  }

  refresh() {
    const q = this.query();
    if (q === null || !this.items.length) {
      this.hide();
      return;
    }
    this.matches = this.items
      .filter((item) => item.shortcut.toLowerCase().startsWith(q) || (q.length > 1 && item.text.toLowerCase().includes(q)))
      .slice(0, 8);
    if (!this.matches.length) {
      this.hide();
      return;
    }
    this.active = Math.min(this.active, this.matches.length - 1);
    this.render();
    this.popup.hidden = false;
  }

  render() {
    this.popup.replaceChildren(
      ...this.matches.map((item, index) => {
        const li = el(
          "li",
          {
            role: "option",
            id: `canned-${index}`,
            class: index === this.active ? "active" : "",
            "aria-selected": index === this.active ? "true" : "false",
            onmousedown: (event) => {
              event.preventDefault();
              this.choose(index);
            },
          },
          el("span", { class: "canned-shortcut" }, `/${item.shortcut}`),
          el("span", { class: "canned-text" }, item.text),
        );
        return li;
      }),
    );
    this.input.setAttribute("aria-activedescendant", `canned-${this.active}`);
  }

  hide() {
    this.popup.hidden = true;
    this.input.removeAttribute("aria-activedescendant");
  }

  choose(index) {
    const item = this.matches[index];
    if (!item) return;
    this.hide();
    this.onInsert(item.text);
  }

  /** The composer's key hook: true when the key was for the popup. */
  onKeydown(event) {
    if (!this.open) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.matches.length) % this.matches.length;
      this.render();
    } else if (event.key === "Enter" || event.key === "Tab") {
      this.choose(this.active);
    } else if (event.key === "Escape") {
      this.hide();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  // ---- the manager dialog --------------------------------------------------------------------

  manage() {
    const list = el("ul", { class: "canned-list" });
    const shortcut = el("input", { name: "shortcut", required: true, maxlength: "30", placeholder: "привет", autocapitalize: "none" });
    const text = el("textarea", { name: "text", required: true, rows: "3", maxlength: "2000", placeholder: "Здравствуйте! Чем могу помочь?" });
    const shared = el("input", { type: "checkbox", name: "shared" });
    const error = el("p", { class: "alert", role: "alert", hidden: true });
    const renderList = () => {
      list.replaceChildren(
        ...(this.items.length
          ? this.items.map((item) =>
              el(
                "li",
                {},
                el("span", { class: "canned-shortcut" }, `/${item.shortcut}`),
                el("span", { class: "canned-text" }, item.text),
                item.shared ? el("span", { class: "badge" }, "общий") : null,
                item.mine === false && !(item.shared && this.canShare)
                  ? null
                  : el(
                  "button",
                  {
                    type: "button",
                    class: "icon-button",
                    "aria-label": `Удалить шаблон /${item.shortcut}`,
                    onclick: async () => {
                      if (await this.remove(item)) renderList();
                    },
                  },
                  icon("trash"),
                ),
              ),
            )
          : [el("li", { class: "muted" }, "Шаблонов пока нет.")]),
      );
    };
    const form = el(
      "form",
      {
        class: "stack",
        onsubmit: async (event) => {
          event.preventDefault();
          error.hidden = true;
          const problem = await this.add(shortcut.value.trim().replace(/^\//, "").toLowerCase(), text.value.trim(), shared.checked);
          if (problem) {
            error.textContent = problem;
            error.hidden = false;
            return;
          }
          shortcut.value = "";
          text.value = "";
          shared.checked = false;
          renderList();
          shortcut.focus();
        },
      },
      el("label", {}, "Сокращение (после «/»)", shortcut),
      el("label", {}, "Текст ответа", text),
      this.canShare ? el("label", { class: "check" }, shared, "Общий — виден всем операторам") : null,
      error,
      el("div", { class: "dialog-actions" }, el("button", { type: "submit", class: "primary" }, "Добавить")),
    );
    const close = el("button", { type: "button", class: "icon-button", "aria-label": "Закрыть", onclick: () => dialog.close() }, icon("close"));
    const dialog = el(
      "dialog",
      { class: "okno-dialog canned-dialog", "aria-labelledby": "canned-title" },
      el("header", { class: "dialog-head" }, el("h2", { id: "canned-title" }, "Шаблоны ответов"), close),
      el("p", { class: "muted" }, "В поле ответа наберите «/» и начало сокращения, затем Enter или Tab."),
      list,
      form,
    );
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    renderList();
    dialog.showModal();
    shortcut.focus();
  }

  async add(shortcut, text, shared) {
    if (!shortcut || !text) return "Заполните сокращение и текст.";
    try {
      const response = await fetch("/api/staff/canned", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": csrfToken(), accept: "application/json" },
        body: JSON.stringify({ shortcut, text, shared }),
      });
      if (!response.ok) {
        if (response.status === 400) return "Сокращение: строчные буквы, цифры, «-» и «_», до 30 символов; текст до 2000 символов.";
        if (response.status === 403) return "Общие шаблоны добавляют старшие операторы и администраторы.";
        if (response.status === 409) return "Такое сокращение уже есть.";
        return `Не удалось сохранить (ошибка ${response.status}).`;
      }
      const item = await response.json().catch(() => null);
      if (item && item.id) this.items.push(item);
      else await this.load();
      this.items.sort((a, b) => a.shortcut.localeCompare(b.shortcut));
      return null;
    } catch {
      return "Нет соединения с сервером.";
    }
  }

  async remove(item) {
    try {
      const response = await fetch(`/api/staff/canned/${encodeURIComponent(item.id)}`, {
        method: "DELETE",
        headers: { "x-csrf-token": csrfToken() },
      });
      if (!response.ok) {
        this.onError(response.status === 403 ? "Этот шаблон может удалить только его автор или руководитель." : "Не удалось удалить шаблон.");
        return false;
      }
      this.items = this.items.filter((x) => x.id !== item.id);
      return true;
    } catch {
      this.onError("Нет соединения с сервером.");
      return false;
    }
  }
}
