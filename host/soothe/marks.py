"""Marked moments (issue 19): the wearer's double press, "I noticed my inner critic / a
threat moment", with the device's 60 s before/after physiology and the wearer's own tags.

Input: the store (`marks` from MARK records; `mark_tags`, kept on this computer only;
state events and minutes for what the body showed before each mark).
Output: rows for `soothe mark` (text and JSON), tagging, and `body_before()` for the report.
A mark's id is its place among its log's marks (1, 2, ...): logs only grow, so it never changes.
"""
import json

from . import query

TAGS = ("self-critical", "anxious", "angry", "ashamed", "kind")
NOTE_MAX_CHARS = 200
# How far back the report looks for threat before a mark.  The device's threat state needs
# a minute or more of evidence, and a self-critical spiral is usually running for a while
# before it is noticed; 10 min keeps the look-back to the same episode.
LOOKBACK_S = 600
# Below this share of the look-back with a classified reading, say nothing about it.
EVIDENCE_MIN_SHARE = 0.5
# States that are a reading of the three systems (the rest: no evidence of a state).
CLASSIFIED = ("threat", "drive", "soothe", "balanced")


class MarkError(Exception):
    """A mark or tag the wearer asked for that cannot be used; the message says what to do."""



def marks(db, device_id, start_s=None, end_s=None):
    """Every mark of a log (optionally within [start_s, end_s)), oldest first, each a dict:
    id, seq, unix_ms, time (local), state_at_mark, before/after {hr_bpm, rmssd_ms, state,
    ok_pct} (None = no evidence), tag, note."""
    out = []
    for i, d in enumerate(query.marks(db, device_id)):
        if start_s is not None and not start_s * 1000 <= d["unix_ms"] < end_s * 1000:
            continue
        out.append({"id": i + 1, "seq": d["seq"], "unix_ms": d["unix_ms"],
                    "time": query.local_time(d["unix_ms"] // 1000), "state_at_mark": d["state_at_mark"],
                    "before": {"hr_bpm": d["before_hr"], "rmssd_ms": d["before_rmssd"], "state": d["before_state"],
                               "ok_pct": d["before_ok_pct"]},
                    "after": {"hr_bpm": d["after_hr"], "rmssd_ms": d["after_rmssd"], "state": d["after_state"],
                              "ok_pct": d["after_ok_pct"]},
                    "tag": d["tag"], "note": d["note"]})
    return out


def marks_in(db, r):
    """The marks of a query.Range, each with `body_before` (see body_before) and
    `practice_after`: the practice started within the minute after the press (its record
    cut the mark's `after` short, so a missing figure there has that reason), or None."""
    out = marks(db, r.device_id, r.start, r.end)
    sessions = query.sessions(db, query.Range(r.device_id, r.start, r.end + 120, r.label))
    for m in out:
        m["body_before"] = body_before(db, r.device_id, m["unix_ms"])
        t_s = m["unix_ms"] / 1000.0
        m["practice_after"] = next((s.get("practice") or "breathing" for s in sessions
                                    if t_s <= s["unix_s"] < t_s + 60), None)
    return out


def tag_label(m):
    """What a mark counts as in the programme view: its tag, 'own words' for a note alone, or 'untagged'."""
    return m["tag"] or ("own words" if m["note"] else "untagged")


def check_tag(tag):
    if tag is None:
        return None
    t = tag.strip().lower()
    if t not in TAGS:
        raise MarkError("tag %r: use one of %s, or put your own words in --note \"...\"" % (tag, ", ".join(TAGS)))
    return t


def check_note(note):
    if note is None:
        return None
    text = " ".join(note.split())
    if not text:
        raise MarkError("--note is empty: write a few words, or leave --note out")
    if len(text) > NOTE_MAX_CHARS:
        raise MarkError("--note has %d characters: keep it to %d" % (len(text), NOTE_MAX_CHARS))
    if not text.isprintable():
        raise MarkError("--note holds control characters: use plain text")
    return text


def find(db, device_id, mark_id):
    """The mark with this id (1-based) in a log, or MarkError naming the ids there are."""
    ms = marks(db, device_id)
    if not ms:
        raise MarkError("no marks stored for %s yet: double-press the button to mark a moment, then sync"
                        % device_id)
    if not 1 <= mark_id <= len(ms):
        raise MarkError("no mark %d for %s: ids run from 1 to %d (`soothe mark` lists them)"
                        % (mark_id, device_id, len(ms)))
    return ms[mark_id - 1]


def set_tag(store, device_id, mark_id, tag=None, note=None, clear=False, now=None):
    """Tags mark `mark_id`: a tag from TAGS and/or a note in the wearer's own words.  Given
    only one of them, the other is kept.  clear=True removes both.  Returns the mark."""
    import time

    m = find(store.db, device_id, mark_id)
    if clear:
        if tag is not None or note is not None:
            raise MarkError("--clear removes the tag and note: give it alone")
        store.tag_mark(device_id, m["seq"], None, None, None)
        return find(store.db, device_id, mark_id)
    tag, note = check_tag(tag), check_note(note)
    if tag is None and note is None:
        raise MarkError("give a tag (%s) or --note \"your own words\" (or --clear)" % ", ".join(TAGS))
    store.tag_mark(device_id, m["seq"], tag if tag is not None else m["tag"], note if note is not None else m["note"],
                   time.time() if now is None else now)
    return find(store.db, device_id, mark_id)


# ---- what the body showed before a mark ---------------------------------------------------
def _state_timeline(db, device_id, start_ms, end_ms):
    """[(from_ms, to_ms, state)] covering [start_ms, end_ms) from the device's state events
    (each names the state from then on; the last one up to 6 h earlier gives the state at
    start_ms, None when there is none).  Without state events the stored minutes stand in
    (a minute's state for its 60 s)."""
    changes = query.state_changes(db, device_id, start_ms, end_ms, start_ms - 6 * 3600 * 1000)
    if not changes:
        out = []
        for t_s, state in query.minute_states(db, device_id, start_ms, end_ms):
            a, b = max(start_ms, t_s * 1000), min(end_ms, t_s * 1000 + 60000)
            if b > a:
                out.append((a, b, state))
        return out
    spans = []
    cur_t, cur = start_ms, None
    for t, state in changes:
        if t <= start_ms:
            cur = state
            continue
        spans.append((cur_t, t, cur))
        cur_t, cur = t, state
    spans.append((cur_t, end_ms, cur))
    # A state holds only while the device logged minutes: a stretch switched off (no
    # minute) between two events carries no state.
    covered = []
    for t_s, _ in query.minute_states(db, device_id, start_ms, end_ms):
        a, b = t_s * 1000, t_s * 1000 + 60000
        if covered and a <= covered[-1][1]:
            covered[-1][1] = max(covered[-1][1], b)
        else:
            covered.append([a, b])
    out = []
    for a, b, state in spans:
        for c, d in covered:
            lo, hi = max(a, c), min(b, d)
            if hi > lo:
                out.append((lo, hi, state))
    return out


def body_before(db, device_id, unix_ms, lookback_s=LOOKBACK_S):
    """What the heart readings showed in the `lookback_s` before a mark.

    Returns {"shown": "threat" | "no threat" | "no evidence", "threat_s": seconds of threat
    in the look-back, "threat_began_s": seconds from the start of the threat stretch in force
    at the mark to the mark (None when threat was not in force at the press; lookback_s when
    it began before the look-back), "reading_s": seconds with a classified state, "learning_s":
    seconds while the baseline was still learnt, "lookback_s"}."""
    start = unix_ms - lookback_s * 1000
    spans = _state_timeline(db, device_id, start, unix_ms)
    threat_ms = sum(b - a for a, b, s in spans if s == "threat")
    reading_ms = sum(b - a for a, b, s in spans if s in CLASSIFIED)
    learning_ms = sum(b - a for a, b, s in spans if s == "learning")
    began = None
    if spans and spans[-1][2] == "threat" and spans[-1][1] >= unix_ms - 1000:
        began = spans[-1][0]
        for a, b, s in reversed(spans[:-1]):
            if s != "threat" or b != began:
                break
            began = a
    if threat_ms > 0:
        shown = "threat"
    elif reading_ms >= EVIDENCE_MIN_SHARE * lookback_s * 1000:
        shown = "no threat"
    else:
        shown = "no evidence"
    return {"shown": shown, "threat_s": round(threat_ms / 1000), "reading_s": round(reading_ms / 1000),
            "learning_s": round(learning_ms / 1000),
            "threat_began_s": None if began is None else round((unix_ms - began) / 1000),
            "lookback_s": lookback_s}


def _mins(seconds):
    m = int(round(seconds / 60.0))
    return "under a minute" if m < 1 else "about 1 minute" if m == 1 else "about %d minutes" % m


def body_words(b):
    """One plain sentence on what the body showed before a mark.  Never a grade: noticing
    early or late is not a score, and the readings are a heuristic."""
    look = _mins(b["lookback_s"]).replace("about ", "")
    if b["shown"] == "threat":
        if b["threat_began_s"] is not None and b["threat_began_s"] >= b["lookback_s"]:
            return ("Your heart readings had shown threat for %s or more before you marked this moment."
                    % _mins(b["lookback_s"]).replace("about ", ""))
        if b["threat_began_s"] is not None and b["threat_began_s"] >= 60:
            return ("Your heart readings had shown threat for %s before you marked this moment."
                    % _mins(b["threat_began_s"]))
        if b["threat_began_s"] is not None:
            return "Your heart readings turned to threat just before you marked this moment."
        return ("Your heart readings showed threat for %s in the %s before this moment, and had eased by the "
                "time you marked it." % (_mins(b["threat_s"]), look))
    if b["shown"] == "no threat":
        return ("Your heart readings did not show threat in the %s before this moment: you noticed it without "
                "the body pointing to it." % look)
    if b.get("learning_s", 0) * 2 >= b["lookback_s"]:
        return ("Soothe was still learning your baseline in the %s before this moment, so it cannot yet say "
                "what the body showed." % look)
    return "There was too little heart reading in the %s before this moment to say what the body showed." % look


# ---- `soothe mark` output ------------------------------------------------------------
def _v(x, fmt):
    return "-" if x is None else fmt % x


def _pair(m, key, fmt):
    return "%s > %s" % (_v(m["before"][key], fmt), _v(m["after"][key], fmt))


def print_marks(db, r, out, width=None):
    """The marks of a range as a table within the terminal's width (80 when piped)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, width=width, highlight=False, soft_wrap=False)
    rows = marks_in(db, r)
    if not rows:
        console.print("no marks for %s in %s: a double press on the device marks a moment" % (r.device_id, r.label))
        return rows
    t = Table(title="Marks for %s (%s) · local time (%s)" % (r.device_id, r.label, query.zone_label(r.start)),
              caption="HR, RMSSD, state: the 60 s before > the 60 s after the press (- = no reading); threat "
                      "first: the %d min before" % (LOOKBACK_S // 60),
              title_justify="left", caption_justify="left", box=None, pad_edge=False, collapse_padding=True)
    cols = ("id", "date", "time", "HR bpm", "RMSSD ms", "state", "threat first", "tag")
    for c in cols:
        t.add_column(c, justify="right" if c in ("id", "HR bpm", "RMSSD ms") else "left", no_wrap=c != "tag",
                     overflow="fold")
    for m in rows:
        day, clock = m["time"].split(" ")
        b = m["body_before"]
        cells = {"id": str(m["id"]), "date": day, "time": clock[:5], "HR bpm": _pair(m, "hr_bpm", "%.0f"),
                 "RMSSD ms": _pair(m, "rmssd_ms", "%.0f"),
                 "state": "%s > %s" % (_short(m["before"]["state"]), _short(m["after"]["state"])),
                 "threat first": {"threat": "yes, %d min" % max(1, round(b["threat_s"] / 60.0)), "no threat": "no",
                                  "no evidence": "not known"}[b["shown"]],
                 "tag": label(m) or "-"}
        t.add_row(*[cells[c] for c in cols])
    console.print(t)
    console.print("Tag one: `soothe mark tag ID %s` and/or `--note \"your words\"`; tags stay on this computer."
                  % "|".join(TAGS), style="dim")
    return rows


def label(m):
    """A mark's tag and note as one text ('' when untagged)."""
    text = m["tag"] or ""
    if m["note"]:
        text = (text + ": " if text else "") + m["note"]
    return text


def _short(state):
    return {"no-reading": "none", "unclassified": "uncl", "learning": "learn", "balanced": "bal",
            None: "-"}.get(state, state)


def marks_json(db, r):
    rows = marks_in(db, r)
    return {"device_id": r.device_id, "range": r.label, "lookback_s": LOOKBACK_S, "tags": list(TAGS),
            "units": {"hr_bpm": "beats/min", "rmssd_ms": "ms", "ok_pct": "% of the 60 s beats clean",
                      "unix_ms": "ms since 1970-01-01 UTC", "time": "local time of this computer"},
            "marks": rows}


def dump_json(obj, out):
    json.dump(obj, out, indent=1)
    out.write("\n")


# ---- `soothe mark`: the command (registered in cli.COMMANDS) ------------------------------
def do_mark(args):
    """`soothe mark [list]` lists the marked moments; `soothe mark tag ID [TAG] [--note TEXT]
    [--clear]` tags one (kept on this computer only)."""
    import sys

    from .commands import CommandError, StoreFor, open_store

    if args.action == "list":
        if args.id is not None or args.tag is not None or args.note is not None or args.clear:
            raise CommandError("`soothe mark` lists marks; to tag one: soothe mark tag ID TAG [--note \"...\"]")
        with StoreFor(args) as (store, r):
            if args.json:
                dump_json(marks_json(store.db, r), sys.stdout)
            else:
                print_marks(store.db, r, sys.stdout)
        return 0
    if args.id is None:
        raise CommandError("give the mark's id (the first column of `soothe mark`), e.g. soothe mark tag 3 anxious")
    try:
        mark_id = int(args.id)
    except ValueError:
        raise CommandError("mark id %r: use the number in the first column of `soothe mark`" % args.id) from None
    if args.day or args.from_ or args.to:
        raise CommandError("`soothe mark tag` takes a mark id, not a date range")
    store = open_store(args.db)
    try:
        try:
            m = set_tag(store, query.pick_device(store.db, args.device), mark_id, args.tag, args.note,
                        clear=args.clear)
        except (MarkError, query.QueryError) as e:
            raise CommandError(str(e)) from e
    finally:
        store.close()
    if args.json:
        dump_json(m, sys.stdout)
    else:
        print("mark %d (%s): %s" % (m["id"], m["time"], label(m) or "no tag"))
    return 0
