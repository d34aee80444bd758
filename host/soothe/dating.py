"""Places each boot of a log on the host's timeline (issue 15 #5, "time without a clock").

Input: the store's records with their boot counter and uptime (records.py header, format
0.4) and the times the decoded rows hold.  Output: the `boots` table (one row per boot:
how it is dated, its start, how far that start may be off, or why it stays undated), and
the rows of a boot placed by its neighbours moved onto the host's timeline.

- A boot is dated exactly when its device clock was set: at boot, or by a sync during
  the boot (the sync's redate and the boot's time_set event move what it logged before).
- A boot that never met a host (an ESP32 powered up away from the laptop: its clock
  starts at 0, so its rows hold uptime) is placed by its neighbours: it started after
  the last record of the dated boot before it, and it ran its span (the uptime of its
  last record, or of its last minute's last beat) before the next dated boot started.  When the undated
  boots between two dated ones fit that window with at most PLACE_SLACK_MAX_S to spare,
  they are placed back to back from the middle of the spare time, each with its bound
  (half the spare time, plus 1 s for the minutes' whole-second start, plus 100 ppm of
  the spans for the device crystal's drift).  Otherwise they
  stay undated (kept, counted, never shown as 1970) and `boots.why` says why.
A placement is proven, not guessed: the device's uptime is its own crystal, and the
bounds are records the device wrote.  Placed boots are never used as neighbours.
Cost: one pass over a log's records, at the end of each sync.
"""
from soothe_fw.log import records
from .store import UNDATED_BEFORE_S

PLACE_SLACK_MAX_S = 600  # wider than this (+-5 min), a placement would mislead an hourly report
_TRUNC_MS = 1000  # a minute's unix_s is whole seconds: its start reads up to 1 s early
# The device's uptime runs on its crystal (ESP32: +-10..40 ppm over temperature); 100 ppm of
# the placed spans is added to the bound and allowed as overlap.
_DRIFT_PPM = 100


def _runs(db, log_id):
    """[[first_seq, last_seq, boot, span_ms]] of the log's 0.4 records in seq order: a new
    run starts at a BOOT record or where the boot counter changes (a BOOT lost on flash).
    (Uptimes are not monotonic in seq: a MINUTE carries its start, logged at its end.)"""
    runs = []
    for seq, boot, up, rtype in db.execute("SELECT seq, boot, up_ms, type FROM records WHERE device_id=? AND boot>0 "
                                           "ORDER BY seq", (log_id,)):
        if not runs or boot != runs[-1][2] or rtype == records.BOOT:
            runs.append([seq, seq, boot, up])
        run = runs[-1]
        run[1] = seq
        run[3] = max(run[3], up)
    for run in runs:
        # A MINUTE's header holds its start; the boot ran at least to its last beat (its
        # offset from the whole-second unix_s, less 1 s: a lower bound whatever the clock).
        row = db.execute(
            "SELECT MAX(r.up_ms + b.t_unix_ms - m.unix_s * 1000 - 1000) FROM records r JOIN minutes m "
            "ON m.device_id=r.device_id AND m.seq=r.seq JOIN beats b ON b.device_id=r.device_id AND b.seq=r.seq "
            "WHERE r.device_id=? AND r.seq BETWEEN ? AND ?", (log_id, run[0], run[1])).fetchone()
        if row[0] is not None and row[0] > run[3]:
            run[3] = row[0]
    return runs


def _walls(db, log_id, first, last):
    """[(seq, up_ms, wall_ms)] of a run's dated rows (events, boots, gaps and minutes)."""
    cut = UNDATED_BEFORE_S * 1000
    return db.execute(
        "SELECT r.seq, r.up_ms, e.unix_ms FROM records r JOIN events e ON e.device_id=r.device_id AND e.seq=r.seq "
        "WHERE r.device_id=? AND r.seq BETWEEN ? AND ? AND e.unix_ms>=? "
        "UNION ALL SELECT r.seq, r.up_ms, m.unix_s * 1000 FROM records r JOIN minutes m "
        "ON m.device_id=r.device_id AND m.seq=r.seq WHERE r.device_id=? AND r.seq BETWEEN ? AND ? "
        "AND m.unix_s * 1000>=? ORDER BY 1", (log_id, first, last, cut, log_id, first, last, cut)).fetchall()


def place(store, log_id, slack_max_s=PLACE_SLACK_MAX_S):
    """Dates what can be proven and records every boot's dating in `boots`.  Returns the
    boots rows of the log [(first_seq, last_seq, boot, span_ms, dating, start_ms, bound_ms, why)]."""
    db = store.db
    placed = {r[0] for r in db.execute("SELECT first_seq FROM boots WHERE device_id=? AND dating='neighbours'",
                                       (log_id,))}
    info = []  # per run: [first, last, boot, span, dating, start_ms, end_ms, bound, why]
    for first, last, boot, span in _runs(db, log_id):
        if first in placed:
            info.append([first, last, boot, span, "neighbours", None, None, None, None])
            continue
        walls = _walls(db, log_id, first, last)
        if walls:
            start = walls[0][2] - walls[0][1]
            # It ran at least to its last row's time, and to its last minute's last beat.
            beat = db.execute("SELECT MAX(t_unix_ms) FROM beats WHERE device_id=? AND seq BETWEEN ? AND ?",
                              (log_id, first, last)).fetchone()[0] or 0
            info.append([first, last, boot, span, "clock", start, max(walls[-1][2], beat), 0, None])
        else:
            info.append([first, last, boot, span, "undated", None, None, None, None])
    i = 0
    with db:
        while i < len(info):
            if info[i][4] != "undated":
                i += 1
                continue
            j = i
            while j < len(info) and info[j][4] == "undated":
                j += 1
            group = info[i:j]
            prev = info[i - 1] if i > 0 and info[i - 1][4] == "clock" else None
            nxt = info[j] if j < len(info) and info[j][4] == "clock" else None
            total = sum(r[3] for r in group)
            why = None
            if prev is None:
                why = "no exactly dated boot before it" if i == 0 else "the boot before it is not exactly dated"
            elif nxt is None:
                why = "no dated boot after it yet: a later synced boot will place it"
            else:
                slack = nxt[5] - prev[6] - total
                drift = total * _DRIFT_PPM // 1000000
                if slack < -_TRUNC_MS - drift:
                    why = "does not fit between its neighbours (%d s too long): a clock was wrong" % (-slack // 1000)
                elif slack > slack_max_s * 1000:
                    why = "could have started anywhere in a %s stretch between its neighbours" % _span_text(slack)
                else:
                    slack = max(slack, 0)
                    t = prev[6] + slack // 2
                    bound = slack // 2 + _TRUNC_MS + drift
                    for r in group:
                        store.redate(log_id, r[0], r[1] + 1, t)  # its rows hold uptime: + start
                        r[4], r[5], r[7] = "neighbours", t, bound
                        t += r[3]
            for r in group:
                r[8] = why if r[4] == "undated" else None
            i = j
        for r in info:
            if r[4] == "neighbours" and r[5] is None:
                continue  # placed by an earlier sync: its row stays as it was
            db.execute("INSERT OR REPLACE INTO boots VALUES (?,?,?,?,?,?,?,?,?)",
                       (log_id, r[0], r[1], r[2], r[3], r[4], r[5], r[7], r[8]))
    return db.execute("SELECT first_seq, last_seq, boot, span_ms, dating, start_unix_ms, bound_ms, why "
                      "FROM boots WHERE device_id=? ORDER BY first_seq", (log_id,)).fetchall()


def _span_text(ms):
    m = ms // 60000
    if m >= 2 * 1440:
        return "%d day" % (m // 1440)
    if m >= 120:
        return "%d h %d min" % (m // 60, m % 60) if m % 60 else "%d h" % (m // 60)
    return "%d min" % m


def placed_minutes(db, log_id):
    """(minutes of the log dated by their neighbours, the widest bound among them in s)."""
    row = db.execute(
        "SELECT COUNT(m.seq), MAX(b.bound_ms) FROM boots b JOIN minutes m ON m.device_id=b.device_id "
        "AND m.seq BETWEEN b.first_seq AND b.last_seq WHERE b.device_id=? AND b.dating='neighbours'",
        (log_id,)).fetchone()
    return row[0] or 0, ((row[1] or 0) + 999) // 1000
