// Fill each page's run-time slot from timings.js (written at build time by hooks/page_code.py).
// Kept out of the HTML so that two builds of the same sources produce identical pages.
function notesShowRuntime() {
  const timings = window.notesTimings || {};
  for (const slot of document.querySelectorAll(".notes-runtime[data-page]")) {
    const seconds = timings[slot.dataset.page];
    if (seconds !== undefined) {
      slot.textContent = `· the code on this page ran in ${seconds.toFixed(2)} s when the site was built`;
    }
  }
}
if (typeof document$ !== "undefined") {
  document$.subscribe(notesShowRuntime); // Material: runs on every (instant) page load
} else {
  document.addEventListener("DOMContentLoaded", notesShowRuntime);
}
