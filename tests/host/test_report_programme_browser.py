"""Issue 19's report sections in a real browser (headless chromium, tests/cdp.py) at phone
(390 px) and desktop (1280 px) width: the programme section and the marked moments fit the
screen, their plots load (the narrow variant on a phone), and the figures the page states
agree with the store.  The 14 days are tests/programme_log.py's.  Screenshots go to
$SOOTHE_SCREENSHOTS when set."""
import os
import re
import shutil
import sqlite3

import pytest

import programme_log as pl
from cdp import CHROMIUM, Browser
from soothe import marks, programme, query, report

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="needs Debian's chromium (`make test` installs it when run as root)")


@pytest.fixture(scope="module")
def page_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("progrep")
    store, truth = pl.build_store(tmp / "p.db")
    marks.set_tag(store, pl.DEVICE, 1, "self-critical", "after the meeting, I called myself stupid")
    marks.set_tag(store, pl.DEVICE, 2, "kind")
    r = query.resolve(store.db, from_=pl.START_DAY.isoformat(), to="2026-03-15")
    index = report.build_report(store.db, r, tmp / "rep")
    store.close()
    return tmp / "p.db", index


CHECKS = """(() => {
  const W = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > W + 1)
      .map(e => e.tagName + '.' + e.className + ':' + (e.textContent || '').slice(0, 40));
  const prog = document.querySelector('#programme');
  return {clientWidth: W, scrollWidth: document.documentElement.scrollWidth, wide: wide,
    progImg: [...prog.querySelectorAll('img')].map(i => [i.currentSrc, i.complete, i.naturalWidth,
                                                         i.getBoundingClientRect().width]),
    rows: [...prog.querySelectorAll('table.prog tr[data-day]')].map(r => [r.dataset.day,
        r.cells[3].textContent, Object.assign({}, (r.querySelector('small') || {}).dataset || {})]),
    words: prog.querySelector('.words').textContent,
    marks: [...document.querySelectorAll('ul.marks li')].map(li => [li.dataset.mark, li.dataset.shown,
                                                                     li.textContent]),
    resources: performance.getEntriesByType('resource').map(r => r.name)};
})()"""


@pytest.mark.parametrize("width,height,mobile", [(390, 844, True), (1280, 900, False)])
def test_programme_and_marks_in_chromium(page_dir, width, height, mobile, tmp_path):
    db, index = page_dir
    with Browser() as b:
        page = b.page(width, height, mobile=mobile)
        page.goto(index.as_uri())
        r = page.eval(CHECKS)
        shot = page.screenshot(str(tmp_path / ("programme-%d.png" % width)))
        shots = os.environ.get("SOOTHE_SCREENSHOTS")
        if shots:
            os.makedirs(shots, exist_ok=True)
            shutil.copy(shot, shots)
    assert r["clientWidth"] == width and r["scrollWidth"] <= width and not r["wide"], r["wide"][:5]
    assert all(n.startswith("file://") for n in r["resources"])
    assert len(r["progImg"]) == 1
    src, complete, natural, shown = r["progImg"][0]
    assert complete and natural > 0 and 300 <= shown <= width
    assert src.endswith("programme-narrow.svg") == (width < 640), src
    # the page's per-day table is the store's
    con = sqlite3.connect(db)
    view = programme.build(con, query.resolve(con, from_=pl.START_DAY.isoformat(), to="2026-03-15"))
    assert [row[0] for row in r["rows"]] == [d["day"] for d in view["days"]]
    for (day, rest, how), d in zip(r["rows"], view["days"]):
        rr = d["resting_rmssd"]
        if rr["ms"] is None:
            assert rest in ("not worn", "too little rest reading"), (day, rest)
        else:
            assert rest.replace("\u2013", "-") == "%.1f (%.1f-%.1f)" % (rr["ms"], rr["low"], rr["high"]), day
        if d["practices"]:
            n = con.execute("SELECT COUNT(*) FROM sessions WHERE kind IN ('prompted','mark') AND "
                            "date(unix_s,'unixepoch','localtime')=?", (day,)).fetchone()[0]
            assert int(how["prompted"]) == n and int(how["chosen"]) == d["practices"] - n
    assert "not a clinical measure" in r["words"] and "95 % interval" in r["words"]
    # every mark is listed once, with what its 10 min before showed
    n_marks = con.execute("SELECT COUNT(*) FROM marks").fetchone()[0]
    assert [int(m[0]) for m in r["marks"]] == list(range(1, n_marks + 1))
    shown = {int(m[0]): m[1] for m in r["marks"]}
    for at, want, began_s in truth_marks():
        mid = [m["id"] for m in marks.marks(con, pl.DEVICE) if m["unix_ms"] == at][0]
        assert shown[mid] == want
    first = r["marks"][0][2]
    assert "self-critical: after the meeting" in first and "6 minutes before you marked" in first
    assert "kind" in r["marks"][1][2] and "did not show threat" in r["marks"][1][2]
    con.close()


def truth_marks():
    return pl.script()[1]["marks"]


def test_the_programme_plot_shows_every_kind_and_the_band(page_dir):
    db, index = page_dir
    svg = (index.parent / "programme.svg").read_text()
    texts = " ".join(re.findall(r"<text[^>]*>([^<]*)<", svg))
    for words in programme.PRACTICE_WORDS.values():
        assert words in texts, words
    assert "95 % band of the line" in texts and "self-critical" in texts and "untagged" in texts
    assert "resting RMSSD (ms)" in texts
