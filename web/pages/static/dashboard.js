// Live team dashboard: listen to the role's feed (server-sent events, authenticated by the
// session cookie) and, on each event, fetch the board's rows again once the views have
// reached that event's log position. No page reload; focus and scroll are kept.
(function () {
  "use strict";
  var board = document.getElementById("board");
  var status = document.getElementById("live-status");
  if (!board || !window.EventSource || !window.fetch) {
    if (status) { status.textContent = "Live updates are not available in this browser: reload to refresh."; }
    return;
  }
  var latest = 0;
  var pending = null;
  var busy = false;

  function say(text) { if (status) { status.textContent = text; } }

  function schedule(delay) {
    if (pending === null) { pending = window.setTimeout(refresh, delay); }
  }

  function refresh() {
    pending = null;
    if (busy) { schedule(50); return; }
    busy = true;
    var wanted = latest;
    var focusedId = document.activeElement && board.contains(document.activeElement)
      ? (document.activeElement.closest("tr") || {}).id : null;
    fetch(board.dataset.rows + "?min_position=" + wanted, {
      credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store"
    }).then(function (response) {
      if (response.status === 503) { schedule(300); return null; }
      if (response.redirected || !response.ok) {
        say("Live updates stopped: reload the page (you may need to sign in again).");
        return null;
      }
      return response.text();
    }).then(function (html) {
      if (html === null) { return; }
      var template = document.createElement("template");
      template.innerHTML = html;
      board.replaceChildren(template.content);
      board.dataset.position = String(wanted);
      if (focusedId) {
        var row = document.getElementById(focusedId);
        var link = row && row.querySelector("a");
        if (link) { link.focus({ preventScroll: true }); }
      }
      say("Live · updated " + new Date().toISOString().slice(11, 19) + " UTC");
    }).catch(function () {
      say("Live updates interrupted: retrying…");
      schedule(1000);
    }).finally(function () { busy = false; });
  }

  function onEvent(event) {
    var position = parseInt(event.lastEventId, 10);
    if (position > latest) { latest = position; }
    schedule(60);
  }

  var source = new EventSource(board.dataset.stream);
  JSON.parse(board.dataset.types).forEach(function (type) {
    source.addEventListener(type, onEvent);
  });
  source.addEventListener("open", function () {
    board.dataset.live = "true";
    say("Live");
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      board.dataset.live = "false";
      say("Live updates stopped: reload the page.");
    } else {
      say("Reconnecting to live updates…");
    }
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
