// Progressive enhancement of the upload form: drag-and-drop and a progress bar.
// Without JavaScript the form posts as a plain multipart form.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var zone = document.getElementById("dropzone");
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var template = status.getAttribute("data-template") || "PERCENT%";
  var dropped = [];

  zone.hidden = false;
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("over");
    });
  });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("over");
    dropped = dropped.concat(Array.prototype.slice.call(event.dataTransfer.files));
    zone.textContent = dropped.map(function (f) { return f.name; }).join(", ");
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    dropped.forEach(function (file) { data.append("file", file, file.name); });
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.round((e.loaded * 100) / e.total);
      bar.hidden = false;
      bar.value = percent;
      status.textContent = template.replace("PERCENT", String(percent));
    });
    request.addEventListener("load", function () {
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", function () { form.submit(); });
    form.querySelector("button[type=submit]").disabled = true;
    request.send(data);
  });
})();
