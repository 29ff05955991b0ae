// Tiny DOM helpers: elements are built with textContent only (never innerHTML with data).

/** <tag class="…">text</tag>; `text` is set with textContent. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** Set textContent only when it differs (keeps the DOM quiet on no-op updates). */
export function setText(node, text) {
  const value = text === undefined || text === null ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** Only http(s) icon URLs are loaded; anything else (javascript:, data:, garbage) is dropped. */
export function safeImageUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A stable hue from a string, for the letter placeholder of a token without an icon. */
function hue(text) {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) % 360;
  return h;
}

/**
 * A token icon: an upstream <img> (lazy, no referrer) over a letter placeholder; an image that
 * fails to load is hidden and the placeholder shows.
 */
export function tokenIcon(size = 24) {
  const wrap = el("span", "icon");
  const letter = el("span", "icon-letter");
  letter.setAttribute("aria-hidden", "true");
  const img = document.createElement("img");
  img.alt = "";
  img.width = size;
  img.height = size;
  img.loading = "lazy";
  img.decoding = "async";
  img.referrerPolicy = "no-referrer";
  img.hidden = true;
  img.addEventListener("error", () => {
    img.hidden = true;
    img.removeAttribute("src");
  });
  img.addEventListener("load", () => {
    img.hidden = false;
  });
  wrap.append(letter, img);
  return wrap;
}

/** Point an icon made by tokenIcon() at a token. */
export function setTokenIcon(wrap, token) {
  const letter = wrap.firstChild;
  const img = wrap.lastChild;
  const label = (token.token_ticker || token.token_name || "?").trim();
  setText(letter, label.charAt(0).toUpperCase() || "?");
  letter.style.setProperty("--hue", String(hue(token.token_address || label)));
  const url = safeImageUrl(token.icon);
  if (url === (wrap.dataset.src || null)) return;
  if (url) {
    wrap.dataset.src = url;
    img.hidden = true;
    img.src = url;
  } else {
    delete wrap.dataset.src;
    img.hidden = true;
    img.removeAttribute("src");
  }
}
