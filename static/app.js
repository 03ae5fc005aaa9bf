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

// Calendar: drag an event chip to another day to move it by as many days; on a focused chip,
// Alt+Left/Right move it a day and Alt+Shift+Left/Right make it shorter/longer. Each is the
// nudge form's own request (the panel's buttons do the same without a mouse or JavaScript),
// answered with the calendar, swapped in place; a refusal comes back with its reason.
(() => {
  const cal = () => document.getElementById("calendar");
  const nudge = (id, by, source) => {
    const t = cal();
    if (!t || !window.htmx) return;
    htmx.ajax("POST", `/calendar/events/${id}/nudge`, {
      source,
      target: "#cal-region",
      select: "#cal-region",
      swap: "outerHTML show:none",
      headers: { "X-CSRF-Token": t.dataset.csrf },
      values: { by, view: t.dataset.view, date: t.dataset.date, person: t.dataset.person, role: t.dataset.role },
    });
  };
  const dayOf = (e) => e.target.closest && e.target.closest("#calendar td.cal-day");
  document.addEventListener("dragstart", (e) => {
    const chip = e.target.closest && e.target.closest("#calendar .chip[data-movable]");
    if (chip) e.dataTransfer.setData("text/plain", `${chip.dataset.event} ${chip.dataset.day}`);
  });
  document.addEventListener("dragover", (e) => {
    const td = dayOf(e);
    if (!td) return;
    e.preventDefault();
    td.classList.add("drop-target");
  });
  document.addEventListener("dragleave", (e) => {
    const td = dayOf(e);
    if (td && !td.contains(e.relatedTarget)) td.classList.remove("drop-target");
  });
  document.addEventListener("drop", (e) => {
    const td = dayOf(e);
    if (!td) return;
    e.preventDefault();
    td.classList.remove("drop-target");
    const [id, from] = (e.dataTransfer.getData("text/plain") || "").split(" ");
    if (!/^[0-9]+$/.test(id || "") || !from) return;
    const days = Math.round((Date.parse(td.dataset.day) - Date.parse(from)) / 86400000);
    if (days) nudge(id, `days:${days}`, td);
  });
  document.addEventListener("keydown", (e) => {
    const chip = e.target.closest && e.target.closest("#calendar .chip[data-movable]");
    if (!chip || !e.altKey || (e.key !== "ArrowLeft" && e.key !== "ArrowRight")) return;
    e.preventDefault();
    const left = e.key === "ArrowLeft";
    nudge(chip.dataset.event, e.shiftKey ? (left ? "shorter" : "longer") : (left ? "day-1" : "day+1"), chip);
  });
  // Resize: drag a chip's right edge. An all-day event's last day follows the day under the
  // pointer; a timed event's end moves 30 minutes for every 16 pixels. On release, one nudge
  // request (`end:N` steps) to the same resize endpoint as the keys and buttons.
  const STEP_PX = 16;
  let sizing = null;
  let swallowClick = false;
  const stepsLabel = (s) => {
    if (s.allDay) return `${s.steps > 0 ? "+" : ""}${s.steps} day${Math.abs(s.steps) === 1 ? "" : "s"}`;
    const m = s.steps * 30;
    const h = Math.trunc(Math.abs(m) / 60), r = Math.abs(m) % 60;
    return `${m < 0 ? "−" : "+"}${h ? `${h} h` : ""}${h && r ? " " : ""}${r || !h ? `${r} min` : ""}`;
  };
  document.addEventListener("pointerdown", (e) => {
    const grip = e.target.closest && e.target.closest("#calendar .chip[data-movable] .chip-grip");
    if (!grip || e.button !== 0) return;
    e.preventDefault();
    e.stopPropagation();
    const chip = grip.closest(".chip");
    sizing = { chip, x: e.clientX, day: chip.dataset.day, allDay: chip.dataset.allDay === "1", steps: 0, td: null };
    chip.classList.add("resizing");
    chip.dataset.size = stepsLabel(sizing);
    if (grip.setPointerCapture) grip.setPointerCapture(e.pointerId);
  });
  document.addEventListener("pointermove", (e) => {
    const s = sizing;
    if (!s) return;
    if (s.allDay) {
      const under = document.elementFromPoint(e.clientX, e.clientY);
      const td = under && under.closest("#calendar td.cal-day");
      if (s.td && s.td !== td) s.td.classList.remove("drop-target");
      if (td) {
        td.classList.add("drop-target");
        s.td = td;
        s.steps = Math.round((Date.parse(td.dataset.day) - Date.parse(s.day)) / 86400000);
      }
    } else {
      s.steps = Math.round((e.clientX - s.x) / STEP_PX);
    }
    s.chip.dataset.size = stepsLabel(s);
  });
  const stop = () => {
    const s = sizing;
    if (!s) return;
    sizing = null;
    s.chip.classList.remove("resizing");
    if (s.td) s.td.classList.remove("drop-target");
    if (s.steps) {
      swallowClick = true;
      nudge(s.chip.dataset.event, `end:${s.steps}`, s.chip);
    }
  };
  document.addEventListener("pointerup", stop);
  document.addEventListener("pointercancel", stop);
  // The grip is not a link, and a resize does not start a move.
  document.addEventListener("click", (e) => {
    if (swallowClick || (e.target.closest && e.target.closest(".chip-grip"))) e.preventDefault();
    swallowClick = false;
  }, true);
  document.addEventListener("dragstart", (e) => {
    if (sizing || (e.target.closest && e.target.closest(".chip-grip"))) e.preventDefault();
  }, true);
  // Keep the keyboard on the event just moved.
  document.addEventListener("htmx:afterSwap", (e) => {
    const panel = document.getElementById("open-h");
    const id = e.detail && e.detail.requestConfig && e.detail.requestConfig.path.match(/events\/([0-9]+)\/nudge/);
    if (!id) return;
    const chip = document.querySelector(`#calendar .chip[data-event="${id[1]}"]`);
    (chip || panel || document.getElementById("cal-heading")).focus();
  });
})();
