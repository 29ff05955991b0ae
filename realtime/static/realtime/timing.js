// Debouncing for bursts: typing in the search box, a refresh's many stream events.

/** fn after `wait` ms of quiet, but at least once every `maxWait` ms while calls keep coming. */
export function debounce(fn, wait, maxWait = Infinity) {
  let timer = null;
  let first = 0;
  const run = () => {
    timer = null;
    first = 0;
    fn();
  };
  return () => {
    const now = Date.now();
    if (!first) first = now;
    clearTimeout(timer);
    timer = setTimeout(run, Math.max(0, Math.min(wait, first + maxWait - now)));
  };
}
