// Live preview of the Markdown fields on the story change form. The server renders the text
// with the same sanitising function the story page uses, so what you see is what gets shown.
(function () {
  "use strict";
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function previewUrl() {
    // .../incidents/story/<id>/change/ or .../incidents/story/add/ -> .../incidents/story/preview/
    return window.location.pathname.replace(/\/story\/.*$/, "/story/preview/");
  }
  function attach(textarea) {
    var box = document.createElement("div");
    box.className = "kb-preview";
    box.setAttribute("aria-live", "polite");
    box.setAttribute("aria-label", "Rendered preview");
    textarea.insertAdjacentElement("afterend", box);
    var timer = null;
    function render() {
      var body = new URLSearchParams();
      body.set("text", textarea.value);
      fetch(previewUrl(), {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken() },
        body: body,
        credentials: "same-origin",
      })
        .then(function (r) { return r.ok ? r.json() : { html: "" }; })
        .then(function (data) { box.innerHTML = data.html || ""; })
        .catch(function () {});
    }
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(render, 300);
    });
    render();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea.kb-markdown").forEach(attach);
  });
})();
