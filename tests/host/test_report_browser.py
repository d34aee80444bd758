"""The HTML report in a real browser (headless Debian chromium over the DevTools protocol):
at phone (390 px) and desktop (1280 px) width nothing overflows, every plot loads (the
narrow variant on the phone), nothing is fetched from the network, and the figures the
text states agree with the store.  Screenshots go to $SOOTHE_SCREENSHOTS when set."""
import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import time

import pytest

from cdp import CHROMIUM, Browser

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="needs Debian's chromium (`make test` installs it when run as root)")


def _local(y, mo, d, h, mi):
    return int(time.mktime(dt.datetime(y, mo, d, h, mi).timetuple()))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Wearing from 23:30 on 1 March past midnight, nothing on 3 March, 40 min on 4 March:
    one flash image (the same device) synced twice, then a report over the four days."""
    from conftest import BIN, sim_sync

    tmp = tmp_path_factory.mktemp("browser")
    db, img = tmp / "s.db", tmp / "f.img"
    soothe = str(BIN / "soothe")
    for start, dur, presses in ((_local(2026, 3, 1, 23, 30), "60m", ["900s:short"]),
                                (_local(2026, 3, 4, 10, 0), "40m", [])):
        sim_sync(img, db, cli=True, seed=21, duration=dur, start=start, presses=presses)
    out = tmp / "rep"
    r = subprocess.run([soothe, "report", "--db", str(db), "--from", "2026-03-01", "--to", "2026-03-04",
                        "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return db, out / "index.html"


CHECKS = """(() => {
  const W = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > W + 1)
      .map(e => e.tagName + '.' + e.className + ':' + (e.textContent || '').slice(0, 40));
  return {clientWidth: W, innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
    wide: wide,
    viewport: !!document.querySelector('meta[name=viewport]'),
    imgs: [...document.images].map(i => [i.currentSrc, i.complete, i.naturalWidth, i.getBoundingClientRect().width]),
    resources: performance.getEntriesByType('resource').map(r => r.name),
    days: [...document.querySelectorAll('section.day')].map(s => ({
      id: s.id, words: s.querySelector('.words').textContent,
      pct: Object.fromEntries([...s.querySelectorAll('table.states tr[data-state]')].map(
          r => [r.dataset.state, r.querySelector('[data-pct]').textContent]))})),
    text: document.body.innerText};
})()"""


def _store_figures(db, day):
    """Worn minutes and per-state minutes of a local day, straight from SQLite."""
    d = dt.date.fromisoformat(day)
    a = _local(d.year, d.month, d.day, 0, 0)
    b = int(time.mktime((d + dt.timedelta(days=1)).timetuple()))
    con = sqlite3.connect(db)
    rows = con.execute("SELECT state, COUNT(*) FROM minutes WHERE unix_s>=? AND unix_s<? GROUP BY state",
                       (a, b)).fetchall()
    con.close()
    per = dict(rows)
    worn = sum(n for s, n in per.items() if s != "no-reading")
    return worn, per


@pytest.mark.parametrize("width,height,mobile", [(390, 844, True), (1280, 900, False)])
def test_report_in_chromium(report, width, height, mobile, tmp_path):
    db, index = report
    with Browser() as b:
        page = b.page(width, height, mobile=mobile)
        page.goto(index.as_uri())
        r = page.eval(CHECKS)
        shots = os.environ.get("SOOTHE_SCREENSHOTS")
        shot = page.screenshot(str(tmp_path / ("report-%d.png" % width)))
        if shots:
            os.makedirs(shots, exist_ok=True)
            shutil.copy(shot, shots)
    print({k: r[k] for k in ("clientWidth", "innerWidth", "scrollWidth", "wide")})
    assert r["viewport"]
    # A page without a viewport tag lays out at 980 px on a phone: the width must be the device's.
    assert r["clientWidth"] == width and r["innerWidth"] == width
    assert r["scrollWidth"] <= width and not r["wide"], r["wide"][:5]
    assert not page.failed
    assert all(n.startswith("file://") for n in r["resources"]), r["resources"]  # no network
    assert len(r["imgs"]) >= 4
    for src, complete, natural, shown in r["imgs"]:
        # loaded, inside the page, and drawn at least 300 px wide (a plot squeezed smaller is unreadable)
        assert complete and natural > 0 and 300 <= shown <= width, (src, complete, natural, shown)
        assert src.endswith("-narrow.svg") == (width < 640), src
    # Four calendar days: 3 March has no data, so three day sections; trends over all four.
    assert [d["id"] for d in r["days"]] == ["day-2026-03-01", "day-2026-03-02", "day-2026-03-04"]
    assert "Across the days" in r["text"] and "local time (" in r["text"] and "How to read this" in r["text"]
    for d in r["days"]:
        worn, per = _store_figures(db, d["id"][4:])
        m = re.search(r"worn with a reading for (\d+) (h (\d+) )?min", d["words"])
        got = int(m.group(1)) * 60 + int(m.group(3)) if m.group(2) else int(m.group(1))
        assert got == worn, (d["words"], worn)
        for state, n in per.items():
            if state == "no-reading":
                continue
            want = round(100.0 * n / worn)
            assert d["pct"][state] == "%d %%" % want, (state, d["pct"], want)
            # the paragraph states the same percentage as the table: one definition, of worn time
            assert "%s %d %%" % (state, want) in d["words"], (state, want, d["words"])


def test_trends_plot_calendar_days_with_a_gap_and_say_why_a_panel_is_empty(report):
    """3 March has no data: a gap in every trend, not a point; the finder panel says why it is empty."""
    from soothe import query, report as rep

    db, index = report
    con = sqlite3.connect(db)
    r = query.resolve(con, from_="2026-03-01", to="2026-03-04")
    days = rep.summary_rows(con, r)
    all_days = [dt.date(2026, 3, d) for d in range(1, 5)]
    s = rep.trend_series(days, all_days)
    hr = s["resting HR (bpm)"]
    assert len(hr) == 4 and hr[2] != hr[2] and all(v == v for v in (hr[0], hr[1], hr[3]))  # 3 March: nan, a gap
    assert all(v != v for v in s["resonance rate found (breaths/min)"])
    texts = " ".join(re.findall(r"<text[^>]*>([^<]*)<", (index.parent / "trends.svg").read_text()))
    assert "no resonance finder run finished in this range" in texts, texts
    assert "01 Mar 02 Mar 03 Mar 04 Mar" in texts and ":00" not in texts  # days, not hours, on the axis
