// The resumable uploader of the project page: sends a file in 5 MB chunks through the tus
// endpoints (/api/v1/projects/{id}/uploads, then PATCH /api/v1/uploads/{id}), shows progress,
// and after a network error asks the server where it stands (HEAD) and goes on from there.
(function () {
  "use strict";
  var CHUNK = 5 * 1024 * 1024;
  function b64(s) { return btoa(unescape(encodeURIComponent(s))); }
  function start(form) {
    var input = form.querySelector("input[type=file]");
    var bar = form.querySelector("progress");
    var status = form.querySelector("[data-upload-status]");
    var csrf = form.querySelector("input[name=csrf]").value;
    var file = input.files[0];
    if (!file) { status.textContent = "Choose a file first."; return; }
    var meta = ["filename " + b64(file.name), "asset_type " + b64(form.asset_type.value)];
    if (form.scene && form.scene.value) meta.push("scene " + b64(form.scene.value));
    if (file.type) meta.push("filetype " + b64(file.type));
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    bar.hidden = false; bar.max = file.size; bar.value = 0;
    status.textContent = "Starting…";
    var tries = 0;
    function fail(msg) { status.textContent = msg; button.disabled = false; }
    fetch(form.dataset.endpoint, {
      method: "POST", credentials: "same-origin",
      headers: { "Tus-Resumable": "1.0.0", "Upload-Length": String(file.size),
        "Upload-Metadata": meta.join(","), "X-CSRF-Token": csrf }
    }).then(function (r) {
      if (r.status !== 201) return r.json().then(function (p) { fail("Not uploaded: " + (p.detail || r.status)); });
      send(r.headers.get("Location"), 0);
    }, function () { fail("The server could not be reached."); });
    function send(url, offset) {
      if (offset >= file.size) return;
      var end = Math.min(offset + CHUNK, file.size);
      fetch(url, {
        method: "PATCH", credentials: "same-origin",
        headers: { "Tus-Resumable": "1.0.0", "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream", "X-CSRF-Token": csrf },
        body: file.slice(offset, end)
      }).then(function (r) {
        if (r.status === 204) {
          tries = 0;
          var at = Number(r.headers.get("Upload-Offset"));
          bar.value = at;
          status.textContent = Math.floor(at * 100 / file.size) + "% (" + at + " of " + file.size + " bytes)";
          if (at >= file.size) { status.textContent = "Uploaded."; window.location.reload(); return; }
          send(url, at);
        } else { resume(url); }
      }, function () { resume(url); });
    }
    function resume(url) {
      if (++tries > 5) { fail("The upload stopped; choose the file again to go on later."); return; }
      status.textContent = "Connection lost; resuming…";
      setTimeout(function () {
        fetch(url, { method: "HEAD", credentials: "same-origin", headers: { "Tus-Resumable": "1.0.0" } })
          .then(function (r) { send(url, Number(r.headers.get("Upload-Offset"))); }, function () { resume(url); });
      }, 1000 * tries);
    }
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-resumable-upload]")) return;
    e.preventDefault();
    start(form);
  });
})();
