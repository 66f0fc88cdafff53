// A small accessible popup menu (role="menu"): arrow keys, Home/End, Enter, Esc.

import { el, icon } from "./dom.js";

let current = null;

export function closeMenu(restoreFocus = true) {
  if (!current) return;
  const { node, anchor, cleanup } = current;
  current = null;
  cleanup();
  node.remove();
  anchor?.setAttribute("aria-expanded", "false");
  if (restoreFocus) anchor?.focus?.({ preventScroll: true });
}

/**
 * @param {{label: string, icon?: string, danger?: boolean, action: Function}[]} items
 * @param {HTMLElement} anchor   the button that opened it (focus returns there)
 * @param {{x: number, y: number}|null} point  where to open (a right click), else under the anchor
 */
export function openMenu(items, anchor, point = null) {
  closeMenu(false);
  const node = el("div", { class: "popup-menu", role: "menu" });
  const buttons = items.map((item) =>
    el(
      "button",
      {
        type: "button",
        role: "menuitem",
        tabindex: "-1",
        class: item.danger ? "danger" : "",
        onclick: () => {
          closeMenu(true);
          item.action();
        },
      },
      item.icon ? icon(item.icon) : null,
      el("span", {}, item.label),
    ),
  );
  node.append(...buttons);
  document.body.append(node);

  const rect = anchor.getBoundingClientRect();
  const x = point ? point.x : rect.right;
  const y = point ? point.y : rect.bottom + 4;
  const w = node.offsetWidth;
  const h = node.offsetHeight;
  node.style.left = `${Math.max(8, Math.min(x - (point ? 0 : w), window.innerWidth - w - 8))}px`;
  node.style.top = `${y + h > window.innerHeight - 8 ? Math.max(8, (point ? y : rect.top - 4) - h) : y}px`;

  const focusAt = (i) => buttons[(i + buttons.length) % buttons.length]?.focus();
  const onKey = (event) => {
    const index = buttons.indexOf(document.activeElement);
    if (event.key === "ArrowDown") focusAt(index + 1);
    else if (event.key === "ArrowUp") focusAt(index - 1);
    else if (event.key === "Home") focusAt(0);
    else if (event.key === "End") focusAt(buttons.length - 1);
    else if (event.key === "Escape" || event.key === "Tab") closeMenu(event.key === "Escape");
    else return;
    event.preventDefault();
  };
  const onDown = (event) => {
    if (!node.contains(event.target)) closeMenu(false);
  };
  const onScroll = () => closeMenu(false);
  node.addEventListener("keydown", onKey);
  setTimeout(() => document.addEventListener("pointerdown", onDown, true));
  window.addEventListener("resize", onScroll);
  document.addEventListener("scroll", onScroll, true);
  current = {
    node,
    anchor,
    cleanup: () => {
      document.removeEventListener("pointerdown", onDown, true);
      window.removeEventListener("resize", onScroll);
      document.removeEventListener("scroll", onScroll, true);
    },
  };
  anchor.setAttribute("aria-expanded", "true");
  focusAt(0);
}
