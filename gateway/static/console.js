// Tocsin console: a little plain JavaScript, no framework. Parts of a page refresh
// themselves from the server (HTML fragments), the crisis log grows in place, and
// the declaration form suggests places as one types.
"use strict";

const REFRESH_MS = 3000;

async function fetchText(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
  if (response.redirected || response.status === 401) { window.location.reload(); return null; }
  return response.ok ? response.text() : null;
}

function refreshPart(element) {
  const tick = async () => {
    const html = await fetchText(element.dataset.refresh);
    if (html !== null && html !== element.innerHTML) { element.innerHTML = html; }
  };
  setInterval(tick, Number(element.dataset.every || REFRESH_MS));
}

function refreshImage(image) {
  const base = image.dataset.refreshImage;
  setInterval(() => { image.src = base + "?t=" + Date.now(); }, Number(image.dataset.every || 10000));
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
  setInterval(tick, REFRESH_MS);
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
  document.querySelectorAll("[data-refresh]").forEach(refreshPart);
  document.querySelectorAll("img[data-refresh-image]").forEach(refreshImage);
  document.querySelectorAll("ol[data-append]").forEach(growTimeline);
  document.querySelectorAll("input[data-suggest]").forEach(suggestPlaces);
});
