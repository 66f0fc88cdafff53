// The composer: Enter sends, Shift+Enter is a new line, Esc cancels a reply or an edit.
// Attachments are uploaded first (multipart "file"), then sent by id with the text.

import { csrfToken, el, formatBytes, icon } from "./dom.js";

const TYPING_EVERY_MS = 3000;
const MAX_HEIGHT_PX = 168;

export class Composer {
  /**
   * @param {HTMLFormElement} form
   * @param {object} o  maxUploadBytes, uploadUrl, onSend({text, replyTo, attachment}) -> bool,
   *                    onEdit(msg, text), onTyping(), onError(text), authorLabel(author),
   *                    onKeydown(event) -> true when it handled the key (canned replies)
   */
  constructor(form, o) {
    this.form = form;
    this.o = o;
    this.input = form.querySelector(".composer-input");
    this.context = form.querySelector(".composer-context");
    this.fileInput = form.querySelector(".file-input");
    this.attachButton = form.querySelector(".attach-button");
    this.sendButton = form.querySelector(".send-button");
    this.replyTo = null;
    this.editing = null;
    this.attachment = null;
    this.uploading = null;
    this.lastTyping = 0;
    this.enabled = true;

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => this.onKeydown(event));
    this.input.addEventListener("input", () => {
      this.autosize();
      this.update();
      const now = Date.now();
      if (this.input.value.trim() && !this.editing && now - this.lastTyping > TYPING_EVERY_MS) {
        this.lastTyping = now;
        this.o.onTyping?.();
      }
    });
    this.input.addEventListener("paste", (event) => {
      const file = [...(event.clipboardData?.files || [])][0];
      if (file) {
        event.preventDefault();
        this.upload(file);
      }
    });
    this.attachButton?.addEventListener("click", () => this.fileInput.click());
    this.fileInput?.addEventListener("change", () => {
      const file = this.fileInput.files[0];
      this.fileInput.value = "";
      if (file) this.upload(file);
    });
    const zone = form.closest("[data-drop-zone]") || form;
    zone.addEventListener("dragover", (event) => {
      if (event.dataTransfer?.types?.includes("Files") && !this.editing) {
        event.preventDefault();
        zone.classList.add("dragging");
      }
    });
    zone.addEventListener("dragleave", (event) => {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
    });
    zone.addEventListener("drop", (event) => {
      zone.classList.remove("dragging");
      const file = event.dataTransfer?.files?.[0];
      if (file && !this.editing) {
        event.preventDefault();
        this.upload(file);
      }
    });
    this.update();
  }

  focus() {
    this.input.focus();
  }

  setEnabled(enabled) {
    this.enabled = enabled;
    this.update();
  }

  onKeydown(event) {
    if (this.o.onKeydown?.(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    } else if (event.key === "Escape") {
      if (this.replyTo || this.editing || this.attachment) {
        event.preventDefault();
        this.cancel();
      }
    } else if (event.key === "ArrowUp" && !this.input.value && !this.editing) {
      const last = this.o.lastOwnMessage?.();
      if (last) {
        event.preventDefault();
        this.edit(last);
      }
    }
  }

  autosize() {
    this.input.style.height = "auto";
    if (!this.input.value || !this.input.scrollHeight) return; // one row, or not rendered yet
    this.input.style.height = `${Math.min(this.input.scrollHeight, MAX_HEIGHT_PX)}px`;
  }

  update() {
    const hasText = this.input.value.trim().length > 0;
    const ready = this.enabled && !this.uploading && (hasText || (this.attachment && !this.editing));
    this.sendButton.disabled = !ready;
    this.form.classList.toggle("editing", Boolean(this.editing));
    if (this.attachButton) this.attachButton.disabled = Boolean(this.editing) || !this.enabled;
    this.sendButton.setAttribute("aria-label", this.editing ? "Сохранить" : "Отправить");
  }

  setText(text) {
    this.input.value = text;
    this.autosize();
    this.update();
  }

  reply(msg) {
    if (this.editing) this.cancel();
    this.replyTo = msg;
    this.renderContext();
    this.focus();
  }

  edit(msg) {
    this.replyTo = null;
    this.attachment = null;
    this.editing = msg;
    this.setText(msg.text || "");
    this.renderContext();
    this.focus();
    this.input.setSelectionRange(this.input.value.length, this.input.value.length);
  }

  cancel() {
    if (this.editing) this.setText("");
    this.replyTo = null;
    this.editing = null;
    this.attachment = null;
    this.renderContext();
    this.update();
  }

  renderContext() {
    const parts = [];
    if (this.editing) {
      parts.push(
        this.contextRow("edit", "Редактирование", this.editing.text || "", () => this.cancel(), "Отменить редактирование"),
      );
    } else if (this.replyTo) {
      const who = this.o.authorLabel(this.replyTo.author, this.replyTo, true) || "сообщение";
      const text = this.replyTo.text || (this.replyTo.attachment ? this.replyTo.attachment.name : "");
      parts.push(
        this.contextRow("reply", `Ответ: ${who}`, text, () => {
          this.replyTo = null;
          this.renderContext();
        }, "Отменить ответ"),
      );
    }
    if (this.uploading) {
      parts.push(
        el(
          "div",
          { class: "context-row context-upload", role: "status" },
          el("span", { class: "spinner", "aria-hidden": "true" }),
          el("span", { class: "context-body" }, el("strong", {}, "Загрузка…"), el("span", {}, this.uploading.name)),
        ),
      );
    } else if (this.attachment) {
      const a = this.attachment;
      const preview = a.image
        ? el("img", { class: "context-thumb", src: a.url, alt: "" })
        : el("span", { class: "context-thumb file" }, icon("file"));
      parts.push(
        el(
          "div",
          { class: "context-row context-attachment" },
          preview,
          el("span", { class: "context-body" }, el("strong", {}, a.name || "Файл"), el("span", {}, formatBytes(a.size))),
          el(
            "button",
            {
              type: "button",
              class: "icon-button",
              "aria-label": "Убрать вложение",
              onclick: () => {
                this.attachment = null;
                this.renderContext();
                this.update();
                this.focus();
              },
            },
            icon("close"),
          ),
        ),
      );
    }
    this.context.replaceChildren(...parts);
    this.context.hidden = parts.length === 0;
  }

  contextRow(kind, title, text, onCancel, cancelLabel) {
    return el(
      "div",
      { class: `context-row context-${kind}` },
      icon(kind === "edit" ? "edit" : "reply"),
      el("span", { class: "context-body" }, el("strong", {}, title), el("span", {}, text)),
      el("button", { type: "button", class: "icon-button", "aria-label": cancelLabel, onclick: onCancel }, icon("close")),
    );
  }

  async upload(file) {
    const max = this.o.maxUploadBytes || 0;
    if (max && file.size > max) {
      this.o.onError?.(`Файл «${file.name}» слишком большой (${formatBytes(file.size)}). Можно до ${formatBytes(max)}.`);
      return;
    }
    if (file.size === 0) {
      this.o.onError?.(`Файл «${file.name}» пустой.`);
      return;
    }
    this.uploading = file;
    this.attachment = null;
    this.renderContext();
    this.update();
    const body = new FormData();
    body.append("file", file, file.name);
    try {
      const response = await fetch(this.o.uploadUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "x-csrf-token": csrfToken(), accept: "application/json" },
      });
      if (!response.ok) {
        let detail = "";
        try {
          const data = await response.json();
          detail = data.detail || data.message || "";
        } catch {
          // not JSON
        }
        if (response.status === 413) detail = `Файл слишком большой. Можно до ${formatBytes(max)}.`;
        throw new Error(detail || `Не удалось загрузить файл (ошибка ${response.status}).`);
      }
      this.attachment = await response.json();
    } catch (error) {
      this.o.onError?.(error instanceof TypeError ? "Нет соединения: файл не загружен." : error.message);
    } finally {
      this.uploading = null;
      this.renderContext();
      this.update();
      this.focus();
    }
  }

  submit() {
    if (!this.enabled || this.uploading) return;
    const text = this.input.value.replace(/^\s*\n|\s+$/g, "");
    if (this.editing) {
      if (!text.trim()) return;
      if (text !== this.editing.text) this.o.onEdit?.(this.editing, text);
      this.cancel();
      return;
    }
    if (!text.trim() && !this.attachment) return;
    const sent = this.o.onSend?.({ text: text.trim() ? text : "", replyTo: this.replyTo, attachment: this.attachment });
    if (sent === false) return;
    // Sent with the send button (Space or Enter on it): the button is disabled now and would
    // drop the focus to the page, so it goes back to the text, where the next message starts.
    const fromButton = document.activeElement === this.sendButton;
    this.replyTo = null;
    this.attachment = null;
    this.setText("");
    this.renderContext();
    this.update();
    if (fromButton) this.focus();
  }
}
