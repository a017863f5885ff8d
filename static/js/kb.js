/* Progressive enhancement for every page. The site works without it.
   - "/" focuses the search box (unless you are typing in a field already).
   - Facet checkboxes on the search page apply as soon as they change.
   - "Copy link" buttons copy a permalink to the clipboard. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(document.activeElement)) return;
    var box = document.querySelector("[data-search-primary]") || document.querySelector("[data-slash-focus]");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (event.target && event.target.type === "checkbox") {
        var page = form.querySelector("input[name=page]");
        if (page) page.remove();
        form.submit();
      }
    });
  });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-copy");
      if (!navigator.clipboard) return;
      navigator.clipboard.writeText(text).then(function () {
        var label = button.textContent;
        button.textContent = button.getAttribute("data-copied-label") || "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
})();
