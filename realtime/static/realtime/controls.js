// The query controls: timeframe tabs (arrow keys move between them), search box, protocol filter,
// the "safe only" toggle.

import { debounce } from "./timing.js";

const SEARCH_DEBOUNCE_MS = 250;

export class Controls {
  /**
   * @param root the page root
   * @param onChange(changes) called with {timeframe} / {q} / {protocol} when the user changes one
   * @param canFocusSearch() false while a dialog is open (the "/" shortcut is off then)
   */
  constructor(root, { onChange, canFocusSearch = () => true }) {
    this.tabs = [...root.querySelectorAll("[data-timeframe]")];
    this.search = root.querySelector("[data-search]");
    this.protocol = root.querySelector("[data-protocol]");
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => onChange({ timeframe: tab.dataset.timeframe }));
      tab.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        const next = this.tabs[(this.tabs.indexOf(tab) + step + this.tabs.length) % this.tabs.length];
        next.focus();
        onChange({ timeframe: next.dataset.timeframe });
        event.preventDefault();
      });
    }
    const searchLater = debounce(() => onChange({ q: this.search.value }), SEARCH_DEBOUNCE_MS);
    this.search.addEventListener("input", searchLater);
    this.search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") onChange({ q: this.search.value });
      if (event.key === "Escape" && this.search.value) {
        this.search.value = "";
        onChange({ q: "" });
      }
    });
    this.protocol.addEventListener("change", () => onChange({ protocol: this.protocol.value }));
    this.safe = root.querySelector("[data-safe]");
    if (this.safe) this.safe.addEventListener("change", () => onChange({ safe: this.safe.checked }));
    document.addEventListener("keydown", (event) => {
      const typing = event.target.closest && event.target.closest("input, select, textarea");
      if (event.key === "/" && !typing && canFocusSearch()) {
        this.search.focus();
        event.preventDefault();
      }
    });
  }

  /** Show `query` in the controls (after a change, or from the URL at start). */
  sync({ timeframe, q, protocol, safe = false }) {
    for (const tab of this.tabs) {
      const selected = tab.dataset.timeframe === timeframe;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    if (this.search.value !== q) this.search.value = q;
    this.protocol.value = protocol;
    if (this.safe) this.safe.checked = Boolean(safe);
  }
}
