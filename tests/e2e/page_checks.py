"""Checks run in the browser on whole pages: the contrast of every visible text against
its effective background, and sideways overflow; and a record with something of every
kind the pages draw, for the checks to look at."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from tests.e2e.browser_support import Browser, LiveServer
from tests.e2e.test_pages_alerts import SUICIDE_ITEM
from tests.e2e.test_pages_timeline import story

CONTRAST = """
// WCAG 2.x contrast of each visible text, computed from the styles the browser applied:
// the text's colour (its fill, in SVG) over the effective background, found by walking up
// the ancestors and compositing every (possibly translucent) background colour on white.
const MIN_NORMAL = 4.5, MIN_LARGE = 3.0;
function rgba(value) {
  const m = /^rgba?\\(([^)]*)\\)$/.exec(value.trim());
  if (!m) return null;
  const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function over(top, bottom) {  // ``top`` composited on an opaque ``bottom``
  const a = top[3];
  return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
}
function luminance(c) {
  const [r, g, b] = c.slice(0, 3).map(v => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function ratio(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
function background(el) {
  const layers = [];
  for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
    const style = getComputedStyle(e);
    if (style.backgroundImage !== "none") return {unknown: `background image on ${e.tagName}`};
    const c = rgba(style.backgroundColor);
    if (c === null) return {unknown: `colour ${style.backgroundColor} on ${e.tagName}`};
    if (c[3] > 0) layers.push(c);
    if (c[3] === 1) break;
  }
  return {colour: layers.reverse().reduce((below, c) => over(c, below), [255, 255, 255, 1])};
}
function shown(node) {
  const range = document.createRange();
  range.selectNodeContents(node);
  const page = document.documentElement;
  return [...range.getClientRects()].some(r => r.width > 0 && r.height > 0
    && r.bottom + scrollY > 0 && r.right + scrollX > 0 && r.left < page.scrollWidth);
}
function describe(el) {
  const id = el.id ? `#${el.id}` : "";
  const cls = typeof el.className === "string" && el.className
    ? "." + el.className.trim().split(/\\s+/).join(".") : "";
  return `${el.tagName.toLowerCase()}${id}${cls}`;
}
const targets = new Map();  // element -> a sample of its text
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const text = node.textContent.trim();
  if (!text) continue;
  let el = node.parentElement;
  if (el.closest("script, style, title, desc, noscript")) continue;
  if (el.closest("option")) el = el.closest("select");  // a closed select shows its choice
  const style = getComputedStyle(el);
  if (style.visibility !== "visible" || Number(style.opacity) === 0 || !shown(node)) continue;
  if (!targets.has(el)) targets.set(el, text.slice(0, 60));
}
for (const el of document.querySelectorAll("input:not([type=hidden]), textarea, select")) {
  if (el.getClientRects().length && !targets.has(el)) targets.set(el, el.value || el.name);
}
const problems = [];
for (const [el, text] of targets) {
  const style = getComputedStyle(el);
  const inSvg = el instanceof SVGElement;
  let fg = rgba(inSvg ? style.fill : style.color);
  const bg = background(el);
  if (fg === null || bg.unknown) {
    problems.push({element: describe(el), text, why: bg.unknown || `colour ${style.color}`});
    continue;
  }
  fg = over(fg, bg.colour);
  const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
  const large = size >= 24 || (bold && size >= 18.66);
  const found = ratio(fg, bg.colour), needed = large ? MIN_LARGE : MIN_NORMAL;
  if (found < needed) {
    problems.push({element: describe(el), text, why: `${found.toFixed(2)}:1 < ${needed}:1`,
                   fg: `rgb(${fg.slice(0, 3).map(Math.round)})`,
                   bg: `rgb(${bg.colour.slice(0, 3).map(Math.round)})`});
  }
}
return {checked: targets.size, problems};
"""

OVERFLOW = """
// Sideways scrolling of the whole page, and the elements that stick out past the window
// (leaving out those inside a region that scrolls on its own, like the wide tables).
const page = document.documentElement, width = page.clientWidth;
function scrollsOnItsOwn(el) {
  for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
    if (["auto", "scroll", "hidden"].includes(getComputedStyle(e).overflowX)) return true;
  }
  return false;
}
const out = [];
for (const el of document.body.querySelectorAll("*")) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.right > width + 1 && !scrollsOnItsOwn(el)) {
    out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className}`
             + ` right=${Math.round(r.right)}`);
  }
}
return {scrollWidth: page.scrollWidth, clientWidth: width, innerWidth, sticking: out.slice(0, 8)};
"""


def contrast_problems(b: Browser) -> tuple[int, list[dict[str, str]]]:
    """How many texts were checked, and those below WCAG AA for their size."""
    # Closed <details> hide their content: open them, so the contrast of what they hold
    # is checked too.
    b.driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    found = b.driver.execute_script(CONTRAST)
    return int(found["checked"]), list(found["problems"])


def overflow(b: Browser) -> dict[str, object]:
    found: dict[str, object] = b.driver.execute_script(OVERFLOW)
    return found


def full_record(live: LiveServer) -> dict[str, str]:
    """A patient with something of every kind the pages draw: doses, scores, a late entry
    and its correction, a severe side effect, an open suicide-risk alert, a progress note,
    a psychotherapy note (a restricted row for everyone but its author) and an emergency
    access by the outsider (flagged audit entries, the emergency notice)."""
    ids = story(live)
    pid = ids["pid"]
    assert live.phq9(pid, SUICIDE_ITEM)["alerts"]
    for kind, text in (("progress", "Sleeping better."), ("psychotherapy", "Private matter.")):
        live.post(
            f"/api/v1/patients/{pid}/notes",
            {"kind": kind, "modality": "CBT", "text": text},
            as_="therapist",
        )
    live.call("GET", f"/api/v1/patients/{pid}/plan", as_="outsider", expect=403)  # denied
    live.post(
        f"/api/v1/patients/{pid}/emergency-access",
        {"reason": "Seen in the emergency department"},
        as_="outsider",
    )
    events = live.get(f"/api/v1/patients/{pid}/history?limit=1000")["events"]
    ids["as_of"] = events[len(events) // 2]["recorded_at"]
    return ids


def every_page(pid: str, as_of: str) -> dict[str | None, list[str]]:
    """The pages each role sees (``None``: not signed in), states with notices included."""
    return {
        None: ["/login"],
        "psychiatrist": [
            "/dashboard",
            "/alerts",
            f"/patients/{pid}",
            f"/patients/{pid}?as_of={quote(as_of)}",
            "/account",
        ],
        "pharmacist": ["/alerts"],
        "outsider": [f"/patients/{pid}"],  # under emergency access: the notice
        "auditor": ["/audit-review", f"/patients/{pid}"],
        "therapist": ["/audit-review"],  # refused: the error page
    }


def visit_every_page(b: Browser, ids: dict[str, str]) -> Iterator[str]:
    """Open each page of ``every_page`` in one window (each role signing in to it in turn,
    which is quicker than a window each); yields where the window is, once the page is
    there. Signing out shows the sign-in page with its flash."""
    for who, paths in every_page(ids["pid"], ids["as_of"]).items():
        if who is not None:
            b.who = who
            b.sign_in(b.live.team.tokens[who])
        for path in paths:
            b.expect_error_status(path.split("?")[0], 403)
            b.open(path)
            yield f"{b.who} {path}"
        if who is not None:
            b.sign_out()
            yield f"{b.who} signed out"
