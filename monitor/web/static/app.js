// bhxh-monitor: keyboard shortcuts and in-place saving for the review queue, CSRF header for fetch.
// Served as a file (CSP script-src 'self'): no inline scripts or event handlers anywhere.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var queue = document.getElementById("queue");
  if (!queue) return;
  var cards = Array.prototype.slice.call(queue.querySelectorAll(".card"));
  var current = 0;

  function select(index) {
    if (!cards.length) return;
    current = Math.max(0, Math.min(cards.length - 1, index));
    cards.forEach(function (card, i) { card.classList.toggle("current", i === current); });
    cards[current].focus({ preventScroll: true });
    cards[current].scrollIntoView({ block: "nearest" });
  }

  function nextPending(from) {
    for (var i = from + 1; i < cards.length; i++) if (!cards[i].classList.contains("done")) return i;
    return Math.min(from + 1, cards.length - 1);
  }

  function setRadio(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"][value="' + value + '"]');
    if (input) input.checked = true;
  }

  function save(form) {
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    var card = form.closest(".card");
    var status = form.querySelector(".status");
    status.textContent = "Đang lưu…";
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (data) {
      card.classList.add("done");
      card.dataset.reviewId = data.review_id;
      status.textContent = data.changed.length ? "Đã lưu (đã sửa nhãn)" : "Đã lưu (xác nhận)";
      var index = cards.indexOf(card);
      if (cards.every(function (c) { return c.classList.contains("done"); })) {
        // Page finished: reload for the next batch (reviewed items have left the queue).
        status.textContent = "Đã duyệt hết trang này, đang tải tin tiếp theo…";
        window.setTimeout(function () { window.location.reload(); }, 600);
      } else if (index === current) select(nextPending(index));
    }).catch(function (err) {
      status.textContent = "Chưa lưu được: " + err.message;
      status.classList.add("error");
    }).finally(function () { delete form.dataset.busy; });
  }

  cards.forEach(function (card, i) {
    var form = card.querySelector("form.review-form");
    form.addEventListener("submit", function (event) { event.preventDefault(); select(i); save(form); });
    card.addEventListener("click", function () { if (i !== current) select(i); });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !cards.length) return;
    var target = event.target;
    var typing = target.matches("textarea, select, input[type=text], input[type=search], input[type=date], input:not([type])");
    if (event.key === "Escape" && target.closest(".card")) { select(current); event.preventDefault(); return; }
    if (typing || target.closest(".filters")) return;
    var form = cards[current].querySelector("form.review-form");
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "1": setRadio(form, "relevant", "1"); break;
      case "0": setRadio(form, "relevant", "0"); break;
      case "n": setRadio(form, "sentiment", "negative"); break;
      case "u": setRadio(form, "sentiment", "neutral"); break;
      case "p": setRadio(form, "sentiment", "positive"); break;
      case "m": var box = form.querySelector('input[name="misleading"]'); box.checked = !box.checked; break;
      case "c": form.querySelector('select[name="category"]').focus(); break;
      case "Enter":
        if (target.matches("button")) return; // a focused button submits natively (one submit)
        (target.closest("form.review-form") || form).requestSubmit(); break;
      default: return;
    }
    event.preventDefault();
  });

  select(0);
})();
