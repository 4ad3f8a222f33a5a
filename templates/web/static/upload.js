// Progressive enhancement of the upload form: the chosen files listed with a
// thumbnail, a "Remove" button and a category each; drag-and-drop where there
// is a mouse; a progress bar while sending. Without JavaScript the form posts
// as a plain multipart form, with one category for all its files.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var input = document.getElementById("files");
  var list = document.getElementById("chosen");
  var zone = document.getElementById("dropzone");
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var allCategory = document.getElementById("category");
  var template = status.getAttribute("data-template") || "PERCENT%";
  var removeText = form.getAttribute("data-remove") || "Remove";
  var removeLabel = form.getAttribute("data-remove-label") || "Remove NAME";
  var categoryLabel = form.getAttribute("data-category-label") || "Category";
  var photo = form.getAttribute("data-photo") || "photo";
  var chosen = []; // { file, select }
  var next = 0;

  form.classList.add("enhanced");
  // The per-file choices replace the one for all files; the input only collects.
  input.removeAttribute("required");

  function size(bytes) {
    var kb = 1024, mb = kb * kb;
    if (bytes >= mb || Math.round(bytes / kb) >= kb) {
      var v = Math.round((bytes / mb) * 10) / 10;
      return (v % 1 === 0 ? v.toFixed(0) : v.toFixed(1)) + " MB";
    }
    if (bytes >= kb) return Math.round(bytes / kb) + " KB";
    return bytes + " bytes";
  }

  function isImage(file) { return /^image\//.test(file.type); }

  // A thumbnail drawn on a canvas (the page's CSP allows no blob: images).
  function thumbnail(file, box) {
    if (!isImage(file) || !window.createImageBitmap) {
      box.textContent = isImage(file) ? "IMG" : "PDF";
      return;
    }
    createImageBitmap(file).then(function (image) {
      var canvas = document.createElement("canvas");
      var side = 128;
      canvas.width = side;
      canvas.height = side;
      var scale = Math.max(side / image.width, side / image.height);
      var w = image.width * scale, h = image.height * scale;
      canvas.getContext("2d").drawImage(image, (side - w) / 2, (side - h) / 2, w, h);
      canvas.setAttribute("aria-hidden", "true");
      box.textContent = "";
      box.appendChild(canvas);
      if (image.close) image.close();
    }, function () { box.textContent = "IMG"; });
  }

  function add(file) {
    var id = "file-" + (next++);
    var item = document.createElement("li");
    item.className = "chosen-file";
    var box = document.createElement("span");
    box.className = "thumb";
    box.setAttribute("aria-hidden", "true");
    thumbnail(file, box);
    var name = document.createElement("p");
    name.className = "file-name";
    name.id = id + "-name";
    name.textContent = file.name;
    var bytes = document.createElement("p");
    bytes.className = "hint file-size";
    bytes.textContent = size(file.size);
    var fields = document.createElement("div");
    fields.className = "file-fields";
    var label = document.createElement("label");
    label.htmlFor = id + "-category";
    label.textContent = categoryLabel;
    var select = allCategory.cloneNode(true);
    select.id = id + "-category";
    select.removeAttribute("name");
    select.setAttribute("aria-describedby", name.id);
    select.value = isImage(file) ? photo : allCategory.value;
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button secondary remove";
    remove.textContent = removeText;
    remove.setAttribute("aria-label", removeLabel.replace("NAME", file.name));
    var entry = { file: file, select: select };
    remove.addEventListener("click", function () {
      chosen = chosen.filter(function (e) { return e !== entry; });
      item.parentNode.removeChild(item);
      list.hidden = chosen.length === 0;
      input.focus();
    });
    fields.appendChild(label);
    fields.appendChild(select);
    fields.appendChild(remove);
    item.appendChild(box);
    item.appendChild(name);
    item.appendChild(bytes);
    item.appendChild(fields);
    list.appendChild(item);
    chosen.push(entry);
    list.hidden = false;
  }

  input.addEventListener("change", function () {
    Array.prototype.slice.call(input.files).forEach(add);
    // Collected above: the input is free for the next choice (a phone picks a few at a time).
    input.value = "";
  });

  // Drag-and-drop only where there is a mouse: touch screens have nothing to drag.
  // (A screen with no touch at all counts as one with a mouse.)
  var media = function (query) { return window.matchMedia && window.matchMedia(query).matches; };
  if (media("(pointer: fine)") || !media("(any-pointer: coarse)")) {
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
      Array.prototype.slice.call(event.dataTransfer.files).forEach(add);
    });
  }

  form.addEventListener("submit", function (event) {
    // Nothing chosen here: the form goes as it is, and the server says what is missing.
    if (chosen.length === 0) return;
    event.preventDefault();
    var data = new FormData();
    var request = form.querySelector("input[name=request]");
    if (request) data.append("request", request.value);
    // Each file after its own category: the server applies a category to the files after it.
    chosen.forEach(function (entry) {
      data.append("category", entry.select.value);
      data.append("file", entry.file, entry.file.name);
    });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.round((e.loaded * 100) / e.total);
      bar.hidden = false;
      bar.value = percent;
      status.textContent = template.replace("PERCENT", String(percent));
    });
    xhr.addEventListener("load", function () {
      document.open();
      document.write(xhr.responseText);
      document.close();
      // The answer is a new page: start at its top, where the receipt's mark is.
      window.scrollTo(0, 0);
    });
    xhr.addEventListener("error", function () {
      status.textContent = "";
      form.querySelector("button[type=submit]").disabled = false;
    });
    form.querySelector("button[type=submit]").disabled = true;
    xhr.send(data);
  });
})();
