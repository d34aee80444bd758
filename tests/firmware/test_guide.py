"""The Guide (prompts, marks, practices, finder) driven through its real interface with small
fakes: under CPython, the 64-bit unix port and the 32-bit MicroPython alike; and its
per-timeline-step, per-5 s and per-ui-tick paths with the heap locked."""

import pytest

from conftest import run_case

# The MicroPython-side code: tests/firmware/mp/guide_cases.py (one function a case).
CASES = "guide_cases.py"


def test_guide_marks_offers_picks_and_prompt_settings(interp):
    r = interp.case(CASES, "flows")
    assert r["mark"] == [False, [["mark", "mark"], ["prompt", "offered-mark"]], True, 40 + 1500 + 650]
    assert r["after_mark"][0] == [["prompt", "ignored"]] and r["after_mark"][1] == [6]
    assert r["mark_rec"] == [True, True, "balanced"]
    assert r["off"] == [["mark", "mark"]]
    lead, practice, ev = r["picked"]
    assert lead[0] is True and lead[1] > 0  # listening for picks: the next change is the lead-in's end
    # two presses in the lead-in: the menu's 2nd (safe_place), each acknowledged by a tap
    assert practice == 4 and ev == [["session", "start manual"], ["session", "practice safe_place"]]
    assert r["stopped"] == [False, [["session", "abort"]]]
    assert r["session"][:3] == ["safe_place", "manual", False] and r["session"][3] == 0
    assert r["threat"] == []  # marks_only: no threat prompt
    assert r["threat_on"] == [["prompt", "offered"]]
    assert r["host"] == [[True, 1], [True, 1], -1, [False, 0]]  # running: SESSION_KINDS index + 1


@pytest.mark.parametrize("port", ["micropython", "mp32"])
def test_practices_ui_tick_and_5s_step_allocate_nothing(port):
    if port == "mp32":
        from conftest import mp32_missing

        if mp32_missing():
            pytest.skip(mp32_missing())
    res = run_case(port, CASES, "locked", timeout=600)
    assert [r[0] for r in res] == ["breathing", "imagery", "compassion_break", "body_scan", "safe_place"]
    assert [r[2] for r in res] == [0, 1, 2, 3, 4]
    assert all(r[1] for r in res), res
