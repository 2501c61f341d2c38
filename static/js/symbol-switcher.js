// The trade page's symbol switcher: htmx fills #symbol-results with links as the person types;
// here the arrow keys move between the input and those links, Escape closes the list, and a
// click elsewhere hides it. "/" anywhere on the page focuses the search (like many trading apps).
(function () {
  "use strict";

  const form = document.querySelector("[data-symbol-switcher]");
  if (!form || form.dataset.started) return;
  form.dataset.started = "1";
  const input = form.querySelector('input[type="search"]');
  const results = form.querySelector(".symbol-results");

  function links() {
    return Array.from(results.querySelectorAll("a[data-symbol-match]"));
  }

  function close() {
    results.innerHTML = "";
  }

  form.addEventListener("keydown", function (event) {
    const items = links();
    const index = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      items[Math.min(index + 1, items.length - 1)].focus();
    } else if (event.key === "ArrowUp" && index >= 0) {
      event.preventDefault();
      if (index === 0) input.focus();
      else items[index - 1].focus();
    } else if (event.key === "Escape") {
      close();
      input.focus();
    }
  });

  document.addEventListener("click", function (event) {
    if (!form.contains(event.target)) close();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    const active = document.activeElement;
    if (active && active.matches("input, select, textarea, [contenteditable]")) return;
    event.preventDefault();
    input.focus();
  });
})();
