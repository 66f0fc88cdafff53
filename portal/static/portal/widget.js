/*
 * okno chat widget. Paste on your site one script tag with the async attribute whose
 * src is YOUR-OKNO-HOST/widget.js (see README.md).
 * It adds a round chat button in a bottom corner; a click opens the chat
 * (YOUR-OKNO-HOST/chat?embed=1) in a panel. The colour, the corner and the sites allowed to
 * embed the chat come from the console («Чат и виджет»): okno writes them into this script.
 * On a site that is not allowed, the panel explains that instead of showing a refused frame. It contacts no host but the one it came from,
 * injects no markup strings and no <style> element: styles are set through the DOM, so it
 * works under a strict Content-Security-Policy on the host page too.
 */
(function () {
  "use strict";
  if (window.__oknoWidget) return;
  var script = document.currentScript;
  if (!script) {
    // inserted by a tag manager or the like: find our own tag
    var tags = document.querySelectorAll('script[src$="/widget.js"]');
    script = tags[tags.length - 1];
  }
  if (!script || !script.src) return;
  var origin = new URL(script.src, location.href).origin;
  var chatUrl = origin + "/chat?embed=1";
  var SVG = "http://www.w3.org/2000/svg";
  var config = /*OKNO_CONFIG*/ {};
  var accent = config.accent || "#2a9ef1";
  // The accent darkened until text in it has 4.5:1 contrast on white (WCAG 2.1 AA), as the
  // chat's own --accent-dark is (portal/controllers/chat.py, theme_css).
  var accentText = (function () {
    var rgb = [1, 3, 5].map(function (i) { return parseInt(accent.slice(i, i + 2), 16); });
    function luminance(c) {
      var l = c.map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
      return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
    }
    var factor = 1;
    var shade = rgb;
    while (factor > 0 && 1.05 / (luminance(shade) + 0.05) < 4.6) {
      factor -= 0.02;
      shade = rgb.map(function (v) { return Math.round(v * factor); });
    }
    return "rgb(" + shade.join(",") + ")";
  })();
  var side = config.side === "left" ? "left" : "right";
  var other = side === "left" ? "right" : "left";
  var allowed = location.origin === origin || (config.origins || []).indexOf(location.origin) !== -1;
  var font = '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

  function css(node, styles) {
    for (var key in styles) node.style.setProperty(key, styles[key]);
    return node;
  }

  function svgIcon(paths, size) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", size);
    svg.setAttribute("height", size);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("fill", "none");
    svg.setAttribute("stroke", "#fff");
    svg.setAttribute("stroke-width", "2");
    svg.setAttribute("stroke-linecap", "round");
    svg.setAttribute("stroke-linejoin", "round");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  var host = document.createElement("div");
  host.setAttribute("data-okno-widget", "");
  function at(styles, value) {
    styles[side] = value;
    styles[other] = "auto";
    return styles;
  }
  css(host, at({ position: "fixed", bottom: "20px", "z-index": "2147483000", "font-family": font }, "20px"));
  var shadow = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var reducedMotion = !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);

  var button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-label", "Открыть чат с компанией");
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "okno-panel");
  css(button, {
    width: "60px", height: "60px", "border-radius": "50%", border: "0", padding: "0", cursor: "pointer",
    background: accent, color: "#fff", display: "flex", "align-items": "center", "justify-content": "center",
    "box-shadow": "0 6px 20px rgba(16,24,40,.25)",
    transition: reducedMotion ? "none" : "transform .15s ease, background .15s ease",
    position: "relative", outline: "none",
  });
  var chatIcon = svgIcon(["M4 5h16v11H9l-5 4z", "M8 9.5h8", "M8 12.5h5"], 28);
  var closeIcon = svgIcon(["M6 6l12 12", "M18 6 6 18"], 26);
  css(closeIcon, { display: "none" });
  button.appendChild(chatIcon);
  button.appendChild(closeIcon);
  button.addEventListener("mouseenter", function () { if (!reducedMotion) css(button, { transform: "scale(1.06)" }); });
  button.addEventListener("mouseleave", function () { css(button, { transform: "none" }); });
  // A ring of white and dark around the button: visible on any site and any accent colour.
  button.addEventListener("focus", function () { css(button, { "box-shadow": "0 0 0 3px #fff, 0 0 0 5px #1d2733, 0 6px 20px rgba(16,24,40,.25)" }); });
  button.addEventListener("blur", function () { css(button, { "box-shadow": "0 6px 20px rgba(16,24,40,.25)" }); });

  var badge = document.createElement("span");
  badge.setAttribute("aria-hidden", "true");
  css(badge, {
    position: "absolute", top: "-2px", right: "-2px", "min-width": "20px", height: "20px", padding: "0 6px",
    "border-radius": "10px", background: "#e5484d", color: "#fff", "font-size": "12px", "font-weight": "700",
    "line-height": "20px", "text-align": "center", display: "none", "box-sizing": "border-box",
    "font-family": font,
  });
  button.appendChild(badge);

  var panel = document.createElement("div");
  panel.id = "okno-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "Чат с компанией");
  css(panel, at({
    position: "absolute", bottom: "76px", width: "380px", height: "600px",
    "max-height": "calc(100vh - 120px)", "max-width": "calc(100vw - 40px)", "border-radius": "16px",
    overflow: "hidden", background: "#fff", "box-shadow": "0 12px 48px rgba(16,24,40,.28)", display: "none",
  }, "0"));

  var frame = null;
  var open = false;

  function small() {
    return window.innerWidth < 520;
  }

  function layout() {
    if (small() && open) {
      css(host, { right: "0", bottom: "0", left: "0", top: "0" });
      css(panel, { position: "fixed", inset: "0", width: "100%", height: "100%", "max-height": "none", "max-width": "none", "border-radius": "0", bottom: "0" });
      css(button, { display: "none" });
    } else {
      css(host, at({ bottom: "20px", top: "auto" }, "20px"));
      css(panel, at({ position: "absolute", inset: "auto", bottom: "76px", width: "380px", height: "600px", "max-height": "calc(100vh - 120px)", "max-width": "calc(100vw - 40px)", "border-radius": "16px" }, "0"));
      css(button, { display: "flex" });
    }
  }

  function tell() {
    if (frame && frame.contentWindow && allowed) frame.contentWindow.postMessage({ okno: "panel", open: open }, origin);
  }

  // A site okno does not list in its allowed origins would get a refused, empty frame:
  // say what is wrong and who can fix it instead.
  function refusal() {
    var box = document.createElement("div");
    box.setAttribute("data-okno-refused", "");
    css(box, { padding: "28px 24px", color: "#1f2933", "font-size": "15px", "line-height": "1.45", "font-family": font });
    var title = document.createElement("strong");
    title.textContent = "Чат пока не подключён к этому сайту";
    css(title, { display: "block", "font-size": "17px", "margin-bottom": "10px" });
    var text = document.createElement("p");
    text.textContent = "Адрес " + location.origin + " не указан в настройках чата. Администратор сайта " +
      "может добавить его в консоли okno: «Чат и виджет» → «Сайты, где разрешён виджет».";
    var link = document.createElement("a");
    link.href = origin + "/chat";
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = "Открыть чат в новой вкладке";
    css(link, { color: accentText, "font-weight": "600" });
    box.appendChild(title);
    box.appendChild(text);
    box.appendChild(link);
    return box;
  }

  function loadChat() {
    frame = document.createElement("iframe");
    frame.src = chatUrl;
    frame.title = "Чат с компанией";
    frame.setAttribute("allow", "clipboard-write");
    css(frame, { border: "0", width: "100%", height: "100%", display: "block" });
    frame.addEventListener("load", tell);
    panel.appendChild(frame);
  }

  // A visitor who has a conversation gets the chat loaded, panel closed, on every page of the
  // site: an operator's reply then shows on the button's badge without opening the panel.
  // Only this flag is kept in the site's storage, never anything of the conversation.
  var STARTED = "okno-widget-started";
  function started() {
    try { return localStorage.getItem(STARTED) === "1"; } catch (e) { return false; }
  }
  function remember() {
    try { localStorage.setItem(STARTED, "1"); } catch (e) { /* storage blocked: no preload */ }
  }

  function setOpen(value) {
    open = value;
    if (open && !frame && !allowed) {
      frame = refusal();
      panel.appendChild(frame);
    } else if (open && !frame) {
      loadChat();
    }
    css(panel, { display: open ? "block" : "none" });
    css(chatIcon, { display: open ? "none" : "block" });
    css(closeIcon, { display: open ? "block" : "none" });
    button.setAttribute("aria-expanded", String(open));
    button.setAttribute("aria-label", open ? "Свернуть чат" : "Открыть чат с компанией");
    layout();
    tell();
    if (open) {
      setBadge(0);
      if (frame && allowed) frame.focus();
    } else {
      button.focus();
    }
  }

  function setBadge(count) {
    badge.textContent = count > 99 ? "99+" : String(count);
    css(badge, { display: count > 0 && !open ? "block" : "none" });
  }

  button.addEventListener("click", function () { setOpen(!open); });
  window.addEventListener("resize", layout);
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.okno === "close") setOpen(false);
    else if (data.okno === "unread") setBadge(Number(data.count) || 0);
    else if (data.okno === "started") remember();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && open) setOpen(false);
  });

  shadow.appendChild(panel);
  shadow.appendChild(button);

  function mount() {
    document.body.appendChild(host);
    if (allowed && started() && !frame) loadChat();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  window.__oknoWidget = { open: function () { setOpen(true); }, close: function () { setOpen(false); } };
})();
