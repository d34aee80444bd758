"""rhythm.sorted_replace (the running medians of the RR history and of the motion
fallback's ranges) gives the same sorted array as the linear scan it replaced, on every
interpreter (the device runs it native).  tests/firmware/mp/sorted_replace_cases.py."""


def test_sorted_replace_matches_the_linear_scan(interp):
    cases, bad = interp.script("sorted_replace_cases.py", 3000)
    assert cases == 3000
    assert bad == 0
