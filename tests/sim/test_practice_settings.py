"""Issue 19's settings, set from the laptop over the wire while the simulated device runs:
the default practice and its length, and prompts turned off (a mark is still logged,
nothing is offered); a bad value is refused by the firmware's own schema."""
import sqlite3

from soothe.device import Device, open_port
from soothe.simulator import Simulator
from soothe.store import Store
from soothe.sync import sync
from soothe_fw.log import records
from soothe_fw.log.settings import ConfigError, Settings


def test_laptop_sets_the_default_practice_its_length_and_prompts_off(tmp_path):
    # 10x real time: the settings go over the wire in the first few virtual seconds, long
    # before the wearer's first press at 240 s (24 s of real time).
    with Simulator(tmp_path / "f.img", seed=2, plan="rest:8m", duration="8m", speed=10,
                   presses=["240s:short", "400s:double"]) as sim:
        dev = Device(open_port(sim.port))
        try:
            dev.hello()
            got = [dev.config("practice_default", "body_scan"), dev.config("practice_body_scan_s", "60"),
                   dev.config("prompts", "off")]
        finally:
            dev.close()
        assert got == [("practice_default", "body_scan"), ("practice_body_scan_s", "60"), ("prompts", "off")]
        sim.wait_stopped(timeout=300)
        dev = Device(open_port(sim.port))
        store = Store(tmp_path / "s.db")
        try:
            sync(dev, store, set_clock=False)
        finally:
            dev.close()
            store.close()
    con = sqlite3.connect(tmp_path / "s.db")
    set_at = [t - 1767600000 * 1000 for (t,) in con.execute("SELECT unix_ms FROM events WHERE kind='config'")]
    assert len(set_at) == 3 and max(set_at) < 240000, "the settings must land before the press at 240 s"
    sessions = [records.decode_session(p) for (p,) in
                con.execute("SELECT payload FROM records WHERE type=? ORDER BY seq", (records.SESSION,))]
    assert [(s["practice"], s["kind"], s["completed"], s["duration_s"]) for s in sessions] == \
        [("body_scan", "manual", True, 60)]  # 0.6 s start cue + 60 s (the end cue is not practice time)
    ev = [(k, bytes(d).decode()) for k, d in
          con.execute("SELECT kind, data FROM events WHERE kind NOT IN ('boot', 'config') ORDER BY seq")]
    assert ("mark", "mark") in ev and not [e for e in ev if e[0] == "prompt"]  # prompts off: no offer
    assert len(con.execute("SELECT 1 FROM records WHERE type=?", (records.MARK,)).fetchall()) == 1


def test_word_settings_are_checked_against_the_schema():
    s = Settings()
    assert s.set("practice_menu", "compassion_break, breathing") == "compassion_break,breathing"
    assert s.set("prompts", "marks_only") == "marks_only"
    for key, bad in (("prompts", "sometimes"), ("practice_default", "yoga"), ("practice_menu", "imagery,imagery"),
                     ("practice_menu", ""), ("practice_default", "imagery,body_scan")):
        try:
            s.set(key, bad)
        except ConfigError as e:
            assert key in str(e) and "\n" not in str(e)
        else:
            raise AssertionError("%s=%r accepted" % (key, bad))
    assert s.get("prompts") == "marks_only"
