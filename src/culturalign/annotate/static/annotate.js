// Rank-and-rate and classification helpers. No framework, no inline script (the page's
// Content-Security-Policy forbids it). The rules mirror annotate/forms.py: a response
// ranked higher may not have a lower rating; "not an answer" takes no rating and ranks
// below every rated response. The server checks the same rules again.
"use strict";

(function () {
  function all(sel, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(sel));
  }

  function initRank(form) {
    var list = form.querySelector("#responses");
    var warn = form.querySelector("#consistency");
    var dragged = null;

    function cards() {
      return all("li.response", list);
    }

    function read(li) {
      var select = li.querySelector("select.rating");
      return {
        label: li.getAttribute("data-label"),
        rank: Number(li.querySelector("input.rank").value),
        rating: select.value === "" ? null : Number(select.value),
        na: li.querySelector("input.not-answer").checked,
      };
    }

    function problems() {
      var entries = cards().map(read).sort(function (a, b) { return a.rank - b.rank; });
      var out = [];
      entries.forEach(function (e) {
        if (!e.na && e.rating === null) {
          out.push("Response " + e.label + " needs a rating (or flag it 'not an answer').");
        }
      });
      for (var i = 0; i < entries.length; i++) {
        for (var j = i + 1; j < entries.length; j++) {
          var up = entries[i], low = entries[j];
          if (up.na && !low.na) {
            out.push("Response " + up.label + " is flagged 'not an answer' but ranked above response " +
              low.label + "; non-answers go below every rated response.");
          } else if (up.rating !== null && low.rating !== null && up.rating < low.rating) {
            out.push("Response " + up.label + " is ranked above response " + low.label +
              " but rated lower (" + up.rating + " < " + low.rating + ").");
          }
        }
      }
      return out;
    }

    function conflictsOnly(list) {
      return list.filter(function (m) { return m.indexOf("needs a rating") === -1; });
    }

    function show(messages) {
      while (warn.firstChild) warn.removeChild(warn.firstChild);
      warn.classList.toggle("active", messages.length > 0);
      if (!messages.length) return;
      var p = document.createElement("p");
      var incomplete = messages.some(function (m) { return m.indexOf("needs a rating") !== -1; });
      p.textContent = incomplete ? "Not ready to save:" : "Ranking and ratings disagree:";
      warn.appendChild(p);
      var ul = document.createElement("ul");
      messages.forEach(function (m) {
        var li = document.createElement("li");
        li.textContent = m;
        ul.appendChild(li);
      });
      warn.appendChild(ul);
    }

    function check() {
      show(conflictsOnly(problems()));
    }

    function renumber() {
      cards().forEach(function (li, i) { li.querySelector("input.rank").value = String(i + 1); });
      check();
    }

    // Typing a rank puts that card at exactly that place and shifts the others: typing 3
    // on the first of A, B, C gives B, C, A. (Sorting by the typed numbers, as before,
    // left A tied with C and one place short when moving down.)
    function placeAt(li) {
      var typed = parseInt(li.querySelector("input.rank").value, 10);
      var others = cards().filter(function (x) { return x !== li; });
      if (isNaN(typed)) { renumber(); return; }
      var place = Math.min(Math.max(typed, 1), others.length + 1);
      if (place > others.length) list.appendChild(li);
      else list.insertBefore(li, others[place - 1]);
      renumber();
    }

    function move(li, delta) {
      if (delta < 0 && li.previousElementSibling) list.insertBefore(li, li.previousElementSibling);
      if (delta > 0 && li.nextElementSibling) list.insertBefore(li.nextElementSibling, li);
      renumber();
    }

    function syncNotAnswer(li) {
      var na = li.querySelector("input.not-answer");
      var select = li.querySelector("select.rating");
      if (na.checked) select.value = "";
      select.disabled = na.checked;
      li.classList.toggle("non-answer", na.checked);
    }

    cards().forEach(function (li) {
      syncNotAnswer(li);
      li.querySelector("button.up").addEventListener("click", function () { move(li, -1); li.focus(); });
      li.querySelector("button.down").addEventListener("click", function () { move(li, 1); li.focus(); });
      li.querySelector("input.rank").addEventListener("change", function () { placeAt(li); });
      li.querySelector("select.rating").addEventListener("change", check);
      li.querySelector("input.not-answer").addEventListener("change", function () { syncNotAnswer(li); check(); });
      li.addEventListener("keydown", function (ev) {
        if (ev.target !== li) return;
        if (ev.key === "ArrowUp" || ev.key === "ArrowDown") {
          ev.preventDefault();
          var delta = ev.key === "ArrowUp" ? -1 : 1;
          if (ev.altKey) {
            move(li, delta);
            li.focus();
          } else {
            var next = delta < 0 ? li.previousElementSibling : li.nextElementSibling;
            if (next) next.focus();
          }
        } else if (/^[0-9]$/.test(ev.key) && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
          ev.preventDefault();
          var na = li.querySelector("input.not-answer");
          if (na.checked) { na.checked = false; syncNotAnswer(li); }
          li.querySelector("select.rating").value = ev.key === "0" ? "10" : ev.key;
          check();
        } else if (ev.key === "n" || ev.key === "N") {
          ev.preventDefault();
          var box = li.querySelector("input.not-answer");
          box.checked = !box.checked;
          syncNotAnswer(li);
          check();
        }
      });
      li.addEventListener("dragstart", function (ev) {
        dragged = li;
        li.classList.add("dragging");
        ev.dataTransfer.effectAllowed = "move";
        ev.dataTransfer.setData("text/plain", li.getAttribute("data-rid"));
      });
      li.addEventListener("dragend", function () {
        li.classList.remove("dragging");
        dragged = null;
        renumber();
      });
    });

    list.addEventListener("dragover", function (ev) {
      if (!dragged) return;
      ev.preventDefault();
      var target = ev.target.closest ? ev.target.closest("li.response") : null;
      if (!target || target === dragged) return;
      var box = target.getBoundingClientRect();
      var after = ev.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? target.nextElementSibling : target);
    });
    list.addEventListener("drop", function (ev) {
      ev.preventDefault();
      renumber();
    });

    form.addEventListener("submit", function (ev) {
      if (ev.submitter && ev.submitter.value === "skip") return; // a skip carries no judgment
      var messages = problems();
      if (messages.length) {
        ev.preventDefault();
        show(messages);
        warn.focus();
      }
    });
    warn.setAttribute("tabindex", "-1");
    check();
  }

  function initClassify(form) {
    var details = form.querySelector("#culture-details");
    function sync() {
      var no = form.querySelector("input[name=culture_related][value=no]");
      var off = no && no.checked;
      all("input", details).forEach(function (input) { input.disabled = off; });
      details.classList.toggle("skipped", !!off);
    }
    all("input[name=culture_related]", form).forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  }

  // Times arrive as UTC ISO stamps; show them in the reader's own zone and words.
  all("time.local").forEach(function (t) {
    var when = new Date(t.getAttribute("datetime"));
    if (isNaN(when.getTime())) return;
    t.title = t.getAttribute("datetime");
    t.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  });

  var rank = document.getElementById("rank-form");
  if (rank) initRank(rank);
  var classify = document.getElementById("classify-form");
  if (classify) initClassify(classify);
})();
