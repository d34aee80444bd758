"""Issue 19's programme view on a scripted 14 days (tests/programme_log.py: records made by
the firmware's codec and stored through Store.add_batch): every figure `soothe programme`
shows is checked against the store's rows, computed here the long way round; the trend
finds the scripted rise; thin data and no data are said in words."""
import datetime as dt
import json
import math
import sqlite3
import statistics
import subprocess
import time

import pytest

import programme_log as pl
from soothe import programme, query


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    db = tmp_path_factory.mktemp("programme") / "p.db"
    store, truth = pl.build_store(db)
    from soothe import marks

    # the wearer tags three of the marks, one with their own words only
    marks.set_tag(store, pl.DEVICE, 1, "self-critical")
    marks.set_tag(store, pl.DEVICE, 3, "self-critical", "before the presentation")
    marks.set_tag(store, pl.DEVICE, 4, None, "tired and snapped at myself")
    store.close()
    con = sqlite3.connect(db)
    view = programme.build(con, programme.default_range(con))
    return db, con, view, truth


def _day_of(unix_s):
    return dt.datetime.fromtimestamp(unix_s).date().isoformat()


def test_the_default_range_is_the_14_days_ending_on_the_last_day_with_data(prog):
    db, con, view, truth = prog
    days = [d["day"] for d in view["days"]]
    assert len(days) == 14
    assert days[0] == pl.START_DAY.isoformat()
    assert days[-1] == (pl.START_DAY + dt.timedelta(days=13)).isoformat()


def test_practice_minutes_by_kind_and_prompted_vs_chosen_match_the_store(prog):
    db, con, view, truth = prog
    want_min, want_prompted, want_chosen = {}, {}, {}
    for unix_s, dur, kind, practice in con.execute("SELECT unix_s, duration_s, kind, practice FROM sessions"):
        day = _day_of(unix_s)
        want_min.setdefault(day, {})
        want_min[day][practice] = want_min[day].get(practice, 0) + dur / 60.0
        bucket = want_prompted if kind in ("prompted", "mark") else want_chosen
        bucket[day] = bucket.get(day, 0) + 1
    assert sum(len(v) for v in want_min.values()) >= 14  # every kind, most days
    assert {k for v in want_min.values() for k in v} == set(pl.records.PRACTICE_NAMES)
    for d in view["days"]:
        got = d["practice_min"]
        want = want_min.get(d["day"], {})
        assert set(got) == set(want), d["day"]
        for k in want:
            assert got[k] == pytest.approx(want[k], abs=0.05), (d["day"], k)
        assert d["prompted"] == want_prompted.get(d["day"], 0)
        assert d["chosen"] == want_chosen.get(d["day"], 0)
    # the scripted day that ended early is counted as ended early, its minutes as practised
    early = [d for d in view["days"] if d["ended_early"]]
    assert [d["day"] for d in early] == [(pl.START_DAY + dt.timedelta(days=pl.EARLY_END_DAY)).isoformat()]
    assert sum(sum(d["practice_min"].values()) for d in early) == pytest.approx((240 + 180) / 60.0)


def test_marks_by_tag_match_the_store(prog):
    db, con, view, truth = prog
    want = {}
    for unix_ms, tag, note in con.execute("SELECT m.unix_ms, t.tag, t.note FROM marks m LEFT JOIN mark_tags t "
                                          "ON t.device_id=m.device_id AND t.seq=m.seq"):
        label = tag or ("own words" if note else "untagged")
        day = want.setdefault(_day_of(unix_ms // 1000), {})
        day[label] = day.get(label, 0) + 1
    assert len(truth["marks"]) == sum(sum(v.values()) for v in want.values()) > 8
    for d in view["days"]:
        assert d["marks"] == want.get(d["day"], {}), d["day"]
    assert view["marks_by_tag"]["self-critical"] == 2 and view["marks_by_tag"]["own words"] == 1


def _median_ci(vals):
    """The order-statistic 95 % interval of a median, by direct binomial sums."""
    s = sorted(vals)
    n = len(s)
    j = max(k for k in range(0, n // 2 + 1) if sum(math.comb(n, i) for i in range(k)) / 2 ** n <= 0.025)
    return statistics.median(s), s[j - 1], s[n - j]


def test_resting_rmssd_per_day_matches_the_store_and_the_script(prog):
    db, con, view, truth = prog
    busy = [(a - 60, a + dur + 120) for a, dur in con.execute("SELECT unix_s, duration_s FROM sessions")]
    blocks = {}
    for t, state, q, rmssd in con.execute("SELECT unix_s, state, quality_pct, rmssd_ms FROM minutes"):
        if state in ("drive", "no-reading", "unclassified") or q < 80 or not rmssd:
            continue
        if any(a < t < b for a, b in busy):
            continue
        blocks.setdefault(_day_of(t), {}).setdefault(t // 300, []).append(rmssd)
    checked = 0
    for d in view["days"]:
        rr = d["resting_rmssd"]
        vals = [statistics.median(v) for v in blocks.get(d["day"], {}).values() if len(v) >= 3]
        if len(vals) < 6:
            assert rr["ms"] is None, d["day"]
            continue
        med, lo, hi = _median_ci(vals)
        assert (rr["ms"], rr["low"], rr["high"]) == pytest.approx((med, lo, hi)), d["day"]
        assert lo <= med <= hi
        # and it is the scripted resting level, within the +-4 ms noise
        assert abs(rr["ms"] - truth["rest_ms"][d["day"]]) < 2.0, d["day"]
        checked += 1
    assert checked == 12  # 14 days less the unworn day and the 20 min day
    unworn = view["days"][pl.UNWORN_DAY]
    short = view["days"][pl.SHORT_DAY]
    assert unworn["worn_min"] == 0 and unworn["resting_rmssd"]["ms"] is None
    assert short["worn_min"] == 20 and short["resting_rmssd"]["ms"] is None


def test_the_trend_finds_the_scripted_rise_with_a_band_that_holds_it(prog):
    db, con, view, truth = prog
    tr = view["trend"]
    assert tr["days"] == 12
    assert tr["low"] <= pl.REST_SLOPE_MS_PER_DAY <= tr["high"]
    assert tr["low"] > 0  # the rise is larger than its uncertainty: the words may say it rose
    # the band is the line's: narrowest in the middle, and it holds the fitted line
    widths = [hi - lo for _, _, lo, hi in tr["fit"]]
    assert min(widths) < widths[0] and min(widths) < widths[-1]
    assert all(lo < y < hi for _, y, lo, hi in tr["fit"])
    # least squares by numpy agrees
    import numpy as np

    pts = [(d["index"], d["resting_rmssd"]["ms"]) for d in view["days"] if d["resting_rmssd"]["ms"] is not None]
    slope = np.polyfit([p[0] for p in pts], [p[1] for p in pts], 1)[0]
    assert tr["slope_ms_per_day"] == pytest.approx(slope)
    text = " ".join(view["words"])
    assert "rose by more than day-to-day variation explains" in text


def test_before_after_change_per_kind_matches_the_store(prog):
    db, con, view, truth = prog
    rows = con.execute("SELECT practice, after_rmssd - before_rmssd FROM sessions WHERE before_rmssd>0 AND "
                       "after_rmssd>0").fetchall()
    for kind, e in view["prepost"].items():
        ch = [c for k, c in rows if k == kind]
        assert e["n"] == len(ch) and e["mean_change_ms"] == pytest.approx(statistics.mean(ch))
        if len(ch) >= programme.PREPOST_MIN_N:
            half = programme.t95(len(ch) - 1) * statistics.stdev(ch) / math.sqrt(len(ch))
            assert (e["low"], e["high"]) == pytest.approx((e["mean_change_ms"] - half, e["mean_change_ms"] + half))
        else:
            assert e["low"] is None
    # every practice kind appears; the two with two practices each are too few to say
    assert set(view["prepost"]) == set(pl.records.PRACTICE_NAMES)
    text = " ".join(view["words"])
    assert "at least 3 are needed to say how RMSSD changed" in text
    # per day: the day's own mean change per kind
    for d in view["days"]:
        for kind, e in d["prepost"].items():
            ch = [c for (u, k, c) in con.execute("SELECT unix_s, practice, after_rmssd - before_rmssd FROM sessions")
                  if k == kind and _day_of(u) == d["day"]]
            assert e["n"] == len(ch) and e["mean_change_ms"] == pytest.approx(statistics.mean(ch))


def test_words_never_claim_an_effect_or_grade_the_wearer(prog):
    db, con, view, truth = prog
    text = " ".join(view["words"]).lower()
    assert "not a clinical measure" in text and "not whether a practice works" in text
    for word in ("improv", "better", "worse", "fail", "should", "good job", "well done", "poor", "effective",
                 "cured", "treat"):
        assert word not in text, word


def test_thin_data_is_said_in_words(tmp_path):
    """Three days: no trend is drawn and the words say why; a range without readings says so."""
    from soothe.store import Store

    batch, _ = pl.script()

    store = Store(tmp_path / "thin.db")
    store.note_device(pl.DEVICE, "0.4.0", time.time())
    cut = pl.local(pl.START_DAY + dt.timedelta(days=3), 0)
    keep = []
    for seq, rtype, payload in batch:
        unix_s = int.from_bytes(bytes(payload[:4]), "little")
        if unix_s < cut:
            keep.append((seq, rtype, payload))
    store.add_batch(pl.DEVICE, keep)
    r = programme.default_range(store.db)
    view = programme.build(store.db, r)
    assert view["trend"] is None
    text = " ".join(view["words"])
    assert "a trend needs 5 such days, so none is drawn yet" in text
    # an empty stretch: the view still has 3 days, and says nothing was read
    empty = query.Range(pl.DEVICE, pl.local(dt.date(2026, 1, 1), 0), pl.local(dt.date(2026, 1, 4), 0), "empty")
    v2 = programme.build(store.db, empty)
    assert len(v2["days"]) == 3 and v2["words"] == ["No day in empty has a reading yet, so there is nothing to show."]
    store.close()


def test_soothe_programme_prints_the_same_numbers_and_json(prog, soothe_cmd):
    db, con, view, truth = prog
    r = subprocess.run(soothe_cmd + ["programme", "--db", str(db), "--json"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["days"] == json.loads(json.dumps(view["days"]))
    assert got["trend"]["slope_ms_per_day"] == pytest.approx(view["trend"]["slope_ms_per_day"])
    r = subprocess.run(soothe_cmd + ["programme", "--db", str(db)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80  # piped: the terminal's default width
    first = view["days"][0]
    row = [ln for ln in lines if ln.startswith(first["day"])][0]
    rr = first["resting_rmssd"]
    assert "%.1f (%.1f-%.1f)" % (rr["ms"], rr["low"], rr["high"]) in row
    assert any(ln.startswith(view["days"][pl.UNWORN_DAY]["day"]) and "not worn" in ln for ln in lines)
    assert any(ln.startswith(view["days"][pl.SHORT_DAY]["day"]) and "too little rest" in ln for ln in lines)
    # --from/--to pick the range; a bad date is one line
    r = subprocess.run(soothe_cmd + ["programme", "--db", str(db), "--from", "2026-03-05", "--to", "2026-03-07",
                                     "--json"], capture_output=True, text=True, timeout=120)
    assert [d["day"] for d in json.loads(r.stdout)["days"]] == ["2026-03-05", "2026-03-06", "2026-03-07"]
    r = subprocess.run(soothe_cmd + ["programme", "--db", str(db), "--from", "2026-13-01"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_t_quantiles_against_numpy_sampling_and_the_table_tail():
    """The table's values are Student's t; beyond it the next lower df's value (never narrower)."""
    import numpy as np

    assert programme.t95(1) == 12.706 and programme.t95(12) == 2.179 and programme.t95(30) == 2.042
    assert programme.t95(35) == 2.042 and programme.t95(59) == 2.021 and programme.t95(500) == 1.980
    # Monte Carlo: for df 5, |t| exceeds t95 about 5 % of the time
    rng = np.random.default_rng(1)
    t = rng.standard_t(5, size=200000)
    assert abs(np.mean(np.abs(t) > programme.t95(5)) - 0.05) < 0.003


@pytest.mark.parametrize("n", [6, 7, 10, 21, 40])
def test_the_median_interval_covers_95_percent(n):
    """Order-statistic interval of a median: its coverage is at least 95 % (simulated)."""
    import numpy as np

    rng = np.random.default_rng(n)
    hits = 0
    for _ in range(4000):
        x = rng.lognormal(3.4, 0.3, size=n)  # a skewed RMSSD-like sample; true median e^3.4
        _, lo, hi = programme.median_interval(list(x))
        hits += lo <= math.exp(3.4) <= hi
    assert hits / 4000 >= 0.94
    assert programme.median_interval([1.0] * 5)[1] is None  # n < 6: no such interval, none made up


def test_soothe_sessions_names_each_practice_within_80_columns(prog, soothe_cmd):
    db, con, view, truth = prog
    r = subprocess.run(soothe_cmd + ["sessions", "--db", str(db), "--from", "2026-03-02", "--to", "2026-03-04"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Practices (5)" in r.stdout and max(len(ln) for ln in r.stdout.splitlines()) <= 80
    rows = [ln.split() for ln in r.stdout.splitlines() if ln.startswith("2026-03-0") and "/" in ln.split()[-1]]
    got = [(ln[2] if ln[2] != "compassion" else "compassion_break") for ln in rows]
    want = [p for (p,) in con.execute("SELECT practice FROM sessions WHERE unix_s < ? ORDER BY unix_s",
                                      (pl.local(pl.START_DAY + dt.timedelta(days=3), 0),))]
    assert got == want
