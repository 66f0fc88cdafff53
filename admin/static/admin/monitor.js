// The supervisor's monitor: the figures are re-read every few seconds (a small poll of one
// server-rendered fragment), and never while the tab is hidden.
const box = document.getElementById("monitor-live");
const EVERY_MS = 5000;

async function refresh() {
  if (document.hidden) return;
  try {
    const response = await fetch(box.dataset.src, { headers: { accept: "text/html" } });
    if (response.ok) box.innerHTML = await response.text();
  } catch {
    // Offline for a moment: the next tick tries again, the figures on screen stay.
  }
}

setInterval(refresh, EVERY_MS);
document.addEventListener("visibilitychange", refresh);
