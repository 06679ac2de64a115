// Scoring as you answer: the PHQ-9 and GAD-7 forms show their running total and band
// while the items are answered. Only a courtesy: the form submits the same without this
// script, and the server scores the answers again (the total shown after saving is the
// server's). The bands come from the form's data-bands, written by the server from the
// instrument definitions, so no cut point is repeated here.
(function () {
  "use strict";
  function bandsOf(form) {
    return form.getAttribute("data-bands").split(",").map(function (part) {
      var range = part.split(":")[0].split("-");
      return { low: Number(range[0]), high: Number(range[1]), name: part.slice(part.indexOf(":") + 1) };
    });
  }
  function update(form) {
    var output = form.querySelector("output");
    var items = form.querySelectorAll("fieldset.item");
    var total = 0, answered = 0, item9 = 0;
    items.forEach(function (fieldset, index) {
      var chosen = fieldset.querySelector("input[type=radio]:checked");
      if (chosen) {
        answered += 1;
        total += Number(chosen.value);
        if (index === 8) { item9 = Number(chosen.value); }
      }
    });
    if (answered === 0) { output.textContent = "Scored as you answer."; return; }
    var band = bandsOf(form).filter(function (b) { return b.low <= total && total <= b.high; })[0];
    var text = "Total " + total + " of " + form.getAttribute("data-max");
    if (answered < items.length) {
      text += " so far (" + answered + " of " + items.length + " items answered)";
    } else if (band) {
      text += ": " + band.name;
    }
    if (form.getAttribute("data-instrument") === "PHQ-9" && item9 > 0) {
      text += ". Item 9 (thoughts of self-harm) is answered above zero: saving raises a suicide-risk alert.";
    }
    output.textContent = text;
    output.classList.toggle("risk", item9 > 0);
  }
  document.querySelectorAll("form.assessment-form").forEach(function (form) {
    form.addEventListener("change", function () { update(form); });
    update(form);
  });
})();

// One-time form keys (web/pages/form_keys.py): the server records one form once, but
// after "back" the browser fetches the page again, with new keys, and fills in what was
// typed. The key a form was sent with is kept for this tab; a form shown again by "back"
// takes it up again, so sending it again shows what it recorded instead of recording it
// twice (sent with other entries, the server says so and offers a fresh form). Without
// this script a double click or a resent POST is still recorded once.
(function () {
  "use strict";
  var STORE = "carelog-sent-form:";
  function nameOf(form) {
    var instrument = form.querySelector("input[name=instrument]");
    return STORE + form.getAttribute("action") + (instrument ? "#" + instrument.value : "");
  }
  var forms = document.querySelectorAll("form[method=post]");
  var navigation = window.performance && performance.getEntriesByType
    ? performance.getEntriesByType("navigation")[0] : null;
  var back = navigation && navigation.type === "back_forward";
  forms.forEach(function (form) {
    var key = form.querySelector("input[name=form_key]");
    if (!key) { return; }
    try {
      var sent = window.sessionStorage.getItem(nameOf(form));
      if (back && sent) { key.value = sent; }
      form.addEventListener("submit", function () {
        window.sessionStorage.setItem(nameOf(form), key.value);
      });
    } catch (e) { /* storage refused: the server still records each key once */ }
  });
})();

// A refused form comes back as the whole timeline, which would open at its top with the
// message far below: bring the form's error summary (or, for a follow-up's completion, its
// first field in error) into view and give it focus, so the message is seen and read out.
(function () {
  "use strict";
  var target = document.querySelector("main .error-summary[tabindex]")
    || document.querySelector("main .completion [aria-invalid=true]");
  if (target) { target.focus(); }
})();
