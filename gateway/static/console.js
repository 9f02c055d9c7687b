// Tocsin console: a little plain JavaScript, no framework. Parts of a page refresh
// themselves from the server (HTML fragments), the crisis log grows in place, and
// the declaration form suggests places as one types. A button pauses every
// refresh (WCAG 2.2.2); a form being filled in is never replaced under the hand.
"use strict";

const REFRESH_MS = 3000;
let paused = false;

function every(ms, tick) {
  setInterval(() => { if (!paused) { tick(); } }, ms);
}

function pauseButton(button) {
  const line = button.closest(".live");
  const state = document.getElementById("live-state");
  const running = state.textContent;
  line.hidden = false;
  button.addEventListener("click", () => {
    paused = !paused;
    button.setAttribute("aria-pressed", String(paused));
    button.textContent = paused ? "Reprendre l'actualisation" : "Suspendre l'actualisation";
    state.textContent = paused ? "Actualisation suspendue : la page ne change plus." : running;
  });
}

function changed(field) {
  if (field.type === "hidden") { return false; }
  if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
  if (field.tagName === "SELECT") {
    const initial = Array.from(field.options).findIndex((option) => option.defaultSelected);
    return field.selectedIndex !== Math.max(initial, 0);
  }
  return field.value !== field.defaultValue;
}

function isEditing(element) {
  const focused = document.activeElement;
  return (focused !== null && element.contains(focused) && focused.matches("input, textarea, select"))
    || Array.from(element.querySelectorAll("input, textarea, select")).some(changed);
}

async function fetchText(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
  if (response.redirected || response.status === 401) { window.location.reload(); return null; }
  return response.ok ? response.text() : null;
}

function refreshPart(element) {
  const guarded = "keepWhileEditing" in element.dataset;
  const tick = async () => {
    const html = await fetchText(element.dataset.refresh);
    if (html === null || html === element.innerHTML || (guarded && isEditing(element))) { return; }
    element.innerHTML = html;
  };
  every(Number(element.dataset.every || REFRESH_MS), tick);
}

function refreshImage(image) {
  const base = image.dataset.refreshImage;
  every(Number(image.dataset.every || 10000), () => { image.src = base + "?t=" + Date.now(); });
}

function growTimeline(list) {
  const tick = async () => {
    const last = list.querySelector("li[data-id]:last-of-type");
    const after = last ? last.dataset.id : "0";
    const html = await fetchText(list.dataset.append + "?apres=" + encodeURIComponent(after));
    if (html && html.trim()) {
      list.insertAdjacentHTML("beforeend", html);
      list.scrollTop = list.scrollHeight;
    }
  };
  list.scrollTop = list.scrollHeight;
  every(REFRESH_MS, tick);
}

function suggestPlaces(input) {
  const target = document.getElementById(input.dataset.target);
  const list = document.getElementById(input.dataset.list);
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const query = input.value.trim();
      if (query.length < 2) { list.innerHTML = ""; return; }
      list.innerHTML = (await fetchText(input.dataset.suggest + "?q=" + encodeURIComponent(query))) || "";
    }, 200);
  });
  list.addEventListener("click", (click) => {
    const button = click.target.closest("button[data-code]");
    if (!button) { return; }
    click.preventDefault();
    const codes = target.value.split(/[\s,;]+/).filter(Boolean);
    if (!codes.includes(button.dataset.code)) { codes.push(button.dataset.code); }
    target.value = codes.join(" ");
    input.value = "";
    list.innerHTML = "";
    input.focus();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("#pause").forEach(pauseButton);
  document.querySelectorAll("[data-refresh]").forEach(refreshPart);
  document.querySelectorAll("img[data-refresh-image]").forEach(refreshImage);
  document.querySelectorAll("ol[data-append]").forEach(growTimeline);
  document.querySelectorAll("input[data-suggest]").forEach(suggestPlaces);
});
