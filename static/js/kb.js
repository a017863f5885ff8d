/* Progressive enhancement for every page. The site works without it.
   - "/" focuses the search box (unless you are typing in a field already).
   - Facet checkboxes on the search page apply as soon as they change.
   - "Copy link" buttons copy a permalink to the clipboard; code blocks get a "Copy" button.
   - Narrow screens: the search filters fold into a "Filters" control above the results. */
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

  // Facets apply on change, which loads a new page: remember which checkbox was toggled and
  // focus it again there, so a keyboard user (Space) carries on where they were.
  var FOCUS_KEY = "kb-autosubmit-focus";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      var box = event.target;
      if (box && box.type === "checkbox") {
        try { sessionStorage.setItem(FOCUS_KEY, JSON.stringify([box.name, box.value])); } catch (e) {}
        var page = form.querySelector("input[name=page]");
        if (page) page.remove();
        form.submit();
      }
    });
  });

  var narrow = window.matchMedia("(max-width: 60rem)");
  var panel = document.querySelector("[data-facets-panel]");
  var remembered = null;
  try {
    remembered = JSON.parse(sessionStorage.getItem(FOCUS_KEY) || "null");
    sessionStorage.removeItem(FOCUS_KEY);
  } catch (e) {}
  var restore = null;
  if (remembered) {
    document.querySelectorAll("form[data-autosubmit] input[type=checkbox]").forEach(function (box) {
      if (box.name === remembered[0] && box.value === remembered[1]) restore = box;
    });
  }
  // Narrow screens: the filters collapse to a "Filters" control above the results.
  if (panel && narrow.matches && !restore) panel.open = false;
  if (panel) {
    narrow.addEventListener("change", function () { if (!narrow.matches) panel.open = true; });
  }
  if (restore) {
    var more = restore.closest("details");
    while (more) { more.open = true; more = more.parentElement.closest("details"); }
    restore.focus({ preventScroll: true });
    restore.scrollIntoView({ block: "center" });
  }

  // A copy button on every code block; the block itself is a focusable region (server-side).
  var labels = document.body.dataset;
  document.querySelectorAll("main pre").forEach(function (pre) {
    var wrapper = document.createElement("div");
    wrapper.className = "code-block";
    pre.parentNode.insertBefore(wrapper, pre);
    wrapper.appendChild(pre);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button--ghost button--small copy-code";
    button.textContent = labels.copyLabel || "Copy";
    button.setAttribute("aria-label", labels.copyCodeLabel || "Copy this code");
    button.setAttribute("data-copy-from", "");
    wrapper.appendChild(button);
  });
  document.querySelectorAll("[data-copy-from]").forEach(function (button) {
    button.addEventListener("click", function () {
      var pre = button.parentNode.querySelector("pre");
      if (!navigator.clipboard || !pre) return;
      navigator.clipboard.writeText(pre.innerText.replace(/\n$/, "")).then(function () {
        button.textContent = labels.copiedLabel || "Copied";
        setTimeout(function () { button.textContent = labels.copyLabel || "Copy"; }, 1500);
      });
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
