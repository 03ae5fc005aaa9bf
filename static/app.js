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

// Leads board: drag a card to another column to move it (its buttons do the same without a
// mouse, and without JavaScript). The move is the buttons' own request, sent by htmx: the board
// comes back from the server and is swapped in place, counts and all; a refused move comes back
// with its reason by the card. Listeners sit on the document, so they outlive each swap.
(() => {
  const columnOf = (e) => e.target.closest && e.target.closest("#board-region .column");
  document.addEventListener("dragstart", (e) => {
    const card = e.target.closest && e.target.closest("#board-region .lead-card[draggable=true]");
    if (card) e.dataTransfer.setData("text/plain", card.dataset.id);
  });
  document.addEventListener("dragover", (e) => {
    const col = columnOf(e);
    if (!col) return;
    e.preventDefault();
    col.classList.add("drop-target");
  });
  document.addEventListener("dragleave", (e) => {
    const col = columnOf(e);
    if (col && !col.contains(e.relatedTarget)) col.classList.remove("drop-target");
  });
  document.addEventListener("drop", (e) => {
    const col = columnOf(e);
    if (!col) return;
    e.preventDefault();
    col.classList.remove("drop-target");
    const id = e.dataTransfer.getData("text/plain");
    const card = /^[0-9]+$/.test(id) && document.getElementById(`lead-${id}`);
    // Dropped where it already is (or not a card): nothing to move.
    if (!card || card.closest(".column") === col || !window.htmx) return;
    const region = document.getElementById("board-region");
    const board = region.querySelector(".board");
    htmx.ajax("POST", `/leads/${id}/status`, {
      source: card,
      target: "#board-region",
      select: "#board-region",
      swap: "outerHTML show:none",
      headers: { "X-CSRF-Token": board.dataset.csrf },
      values: { status: col.dataset.status, back: region.dataset.back },
    });
  });
  // A move the server did not answer (or answered with an error page): say so above the board.
  const failed = (e) => {
    const target = e.detail && e.detail.target;
    const box = document.getElementById("board-failure");
    if (!box || !target || target.id !== "board-region") return;
    box.textContent = "Not moved: the server did not answer. Reload the page and try again.";
    box.hidden = false;
  };
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:afterSwap", (e) => {
    const box = document.getElementById("board-failure");
    if (box && e.detail && e.detail.target && e.detail.target.id === "board-region") box.hidden = true;
  });
})();

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

// Task boards: a focused card moves with the arrow keys (→ forward: start, complete; ← back:
// put back, reopen), through the card's own buttons; focus returns to the card after the swap.
(() => {
  let moved = null;
  document.addEventListener("keydown", (e) => {
    const card = e.target.closest && e.target.closest(".task-card");
    if (!card || e.target !== card || e.altKey || e.ctrlKey || e.metaKey) return;
    const key = e.key === "ArrowRight" ? "forward" : e.key === "ArrowLeft" ? "back" : null;
    const button = key && card.querySelector(`button[data-move=${key}]`);
    if (!button) return;
    e.preventDefault();
    moved = card.id;
    button.click();
  });
  document.addEventListener("htmx:afterSettle", () => {
    const card = moved && document.getElementById(moved);
    if (card) card.focus();
    moved = null;
  });
})();
