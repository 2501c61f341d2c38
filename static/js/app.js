// Papertrade's small client helpers: theme switch and toasts.
(function () {
  "use strict";

  function setTheme(theme) {
    document.documentElement.setAttribute("data-theme", theme);
    document.cookie = "theme=" + theme + ";path=/;max-age=31536000;SameSite=Lax";
  }

  document.addEventListener("click", function (event) {
    const toggle = event.target.closest("[data-theme-toggle]");
    if (!toggle) return;
    const current = document.documentElement.getAttribute("data-theme");
    setTheme(current === "dark" ? "light" : "dark");
  });

  // A toast: a short message in the corner that fades by itself.
  window.papertradeToast = function (text, kind) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const toast = document.createElement("div");
    toast.className = "toast toast-" + (kind || "info");
    toast.setAttribute("role", kind === "error" ? "alert" : "status");
    toast.textContent = text;
    box.appendChild(toast);
    setTimeout(function () { toast.remove(); }, 6000);
  };
})();
