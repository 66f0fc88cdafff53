/*
 * okno chat widget. Paste on your site one script tag with the async attribute whose
 * src is YOUR-OKNO-HOST/widget.js (see README.md).
 * It adds a round chat button in the bottom-right corner; a click opens the chat
 * (YOUR-OKNO-HOST/chat?embed=1) in a panel. It contacts no host but the one it came from,
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
  var accent = "#2a9ef1";
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
  css(host, { position: "fixed", right: "20px", bottom: "20px", "z-index": "2147483000", "font-family": font });
  var shadow = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

  var button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-label", "Открыть чат с компанией");
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "okno-panel");
  css(button, {
    width: "60px", height: "60px", "border-radius": "50%", border: "0", padding: "0", cursor: "pointer",
    background: accent, color: "#fff", display: "flex", "align-items": "center", "justify-content": "center",
    "box-shadow": "0 6px 20px rgba(16,24,40,.25)", transition: "transform .15s ease, background .15s ease",
    position: "relative", "margin-left": "auto", outline: "none",
  });
  var chatIcon = svgIcon(["M4 5h16v11H9l-5 4z", "M8 9.5h8", "M8 12.5h5"], 28);
  var closeIcon = svgIcon(["M6 6l12 12", "M18 6 6 18"], 26);
  css(closeIcon, { display: "none" });
  button.appendChild(chatIcon);
  button.appendChild(closeIcon);
  button.addEventListener("mouseenter", function () { css(button, { transform: "scale(1.06)" }); });
  button.addEventListener("mouseleave", function () { css(button, { transform: "none" }); });
  button.addEventListener("focus", function () { css(button, { "box-shadow": "0 0 0 4px rgba(42,158,241,.35), 0 6px 20px rgba(16,24,40,.25)" }); });
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
  css(panel, {
    position: "absolute", right: "0", bottom: "76px", width: "380px", height: "600px",
    "max-height": "calc(100vh - 120px)", "max-width": "calc(100vw - 40px)", "border-radius": "16px",
    overflow: "hidden", background: "#fff", "box-shadow": "0 12px 48px rgba(16,24,40,.28)", display: "none",
  });

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
      css(host, { right: "20px", bottom: "20px", left: "auto", top: "auto" });
      css(panel, { position: "absolute", inset: "auto", right: "0", bottom: "76px", width: "380px", height: "600px", "max-height": "calc(100vh - 120px)", "max-width": "calc(100vw - 40px)", "border-radius": "16px" });
      css(button, { display: "flex" });
    }
  }

  function tell() {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage({ okno: "panel", open: open }, origin);
  }

  function setOpen(value) {
    open = value;
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.src = chatUrl;
      frame.title = "Чат с компанией";
      frame.setAttribute("allow", "clipboard-write");
      css(frame, { border: "0", width: "100%", height: "100%", display: "block" });
      frame.addEventListener("load", tell);
      panel.appendChild(frame);
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
      if (frame) frame.focus();
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
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && open) setOpen(false);
  });

  shadow.appendChild(panel);
  shadow.appendChild(button);

  function mount() {
    document.body.appendChild(host);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  window.__oknoWidget = { open: function () { setOpen(true); }, close: function () { setOpen(false); } };
})();
