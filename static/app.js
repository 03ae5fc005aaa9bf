// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("nav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
});

// Leads board: drag a card to another column to move it (buttons do the same without a mouse).
document.addEventListener("DOMContentLoaded", () => {
  const board = document.querySelector(".board");
  if (!board) return;
  const csrf = board.dataset.csrf;
  const errorBox = document.getElementById("board-error");
  board.addEventListener("dragstart", (e) => {
    const card = e.target.closest(".lead-card");
    if (card) e.dataTransfer.setData("text/plain", card.dataset.id);
  });
  board.querySelectorAll(".column").forEach((col) => {
    col.addEventListener("dragover", (e) => { e.preventDefault(); col.classList.add("drop-target"); });
    col.addEventListener("dragleave", () => col.classList.remove("drop-target"));
    col.addEventListener("drop", async (e) => {
      e.preventDefault();
      col.classList.remove("drop-target");
      const id = e.dataTransfer.getData("text/plain");
      const resp = await fetch(`/api/v1/inquiries/${id}/status`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ status: col.dataset.status }),
      });
      if (resp.ok) { location.reload(); return; }
      const problem = await resp.json().catch(() => ({ detail: "The move failed." }));
      errorBox.textContent = `Not moved: ${problem.detail}`;
      errorBox.hidden = false;
    });
  });
});

// Phone width: tables with a header become one card per row, each cell labelled by its column.
function stackTables(root) {
  root.querySelectorAll("table.data").forEach((table) => {
    const heads = [...table.querySelectorAll("thead th")].map((th) =>
      th.classList.contains("actions") ? "" : th.textContent.trim());
    if (!heads.length) return;
    table.querySelectorAll("tbody tr").forEach((tr) => {
      [...tr.children].forEach((cell, i) => {
        if (!cell.hasAttribute("data-label")) cell.dataset.label = heads[i] || "";
      });
    });
    table.classList.add("stack");
  });
}
document.addEventListener("DOMContentLoaded", () => stackTables(document));
document.addEventListener("htmx:load", (e) => stackTables(e.target));
