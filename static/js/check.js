/* Check page: drop a file on the upload box, and warn about an oversized file before upload. */
(function () {
  "use strict";
  var zone = document.querySelector("[data-dropzone]");
  if (!zone) return;
  var input = zone.querySelector("input[type=file]");
  var help = zone.querySelector(".help");
  var form = zone.closest("form");
  var limitText = form && form.querySelector(".actions .muted");

  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("is-over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("is-over"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event("change"));
    }
  });
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file || !help) return;
    help.textContent = file.name + " (" + Math.ceil(file.size / 1024) + " KB) will be checked." +
      (limitText ? " " + limitText.textContent : "");
  });
})();
