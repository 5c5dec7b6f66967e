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

// Copy with context (hooks/copy_context.py): an executed block's source carries, in
// data-notes-copy, the program that runs on its own; Material's copy button copies
// data-clipboard-text when it is set, instead of the code shown.
// Material's copy buttons: `button.md-code__button[data-md-type=copy]` (9.6 and later) or
// `.md-clipboard` (earlier); both carry data-clipboard-target.
const notesCopyButtons = "[data-clipboard-target]";
const notesCopyTitle = "Copy a program that runs on its own: this block and the earlier code it needs";
function notesCopyButton(button) {
  const block = button.closest("[data-notes-copy]");
  if (block && button.dataset.clipboardText !== block.dataset.notesCopy) {
    button.setAttribute("data-clipboard-text", block.dataset.notesCopy);
    button.setAttribute("title", notesCopyTitle);
  }
}
function notesSetCopies() {
  for (const button of document.querySelectorAll(`[data-notes-copy] ${notesCopyButtons}`)) {
    notesCopyButton(button);
  }
}
// Material adds the buttons as it mounts code blocks; set the text again on the click itself
// (capture phase, before the clipboard handler) so that no click copies the bare block.
document.addEventListener(
  "click",
  (event) => {
    const button = event.target instanceof Element && event.target.closest(notesCopyButtons);
    if (button) notesCopyButton(button);
  },
  true,
);

function notesPageLoaded() {
  notesShowRuntime();
  notesSetCopies();
  setTimeout(notesSetCopies, 0); // after Material's own subscribers have added the buttons
}
if (typeof document$ !== "undefined") {
  document$.subscribe(notesPageLoaded); // Material: runs on every (instant) page load
} else {
  document.addEventListener("DOMContentLoaded", notesPageLoaded);
}
