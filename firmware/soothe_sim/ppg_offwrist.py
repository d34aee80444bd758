"""Off-wrist scenes for the synthetic generator (contact codes 2..5 of ppg_synth).

What a sensor sees with no skin under it: lamp flicker aliased into the pulse band, a
sensor swinging on a loose strap, drifting daylight, a table knocked now and then.
Functions of the generator's state (`g`: a SyntheticPPG), so the same seed gives the
same samples; loaded only by plans that have such a segment.
"""
import math

OFF_AMBIENT = 2
OFF_DANGLING = 3
OFF_DAYLIGHT = 4


def start(g, code):
    """New random scene for an off-wrist segment (each variant differs per seed)."""
    u = g._uniform
    g._off_code = code
    g._off_t = 0  # samples since the segment began
    g._off_phase = 0.0
    g._off_dc = 400.0 + 2800.0 * u()  # ambient light on the photodiode
    g._off_level = 0.0  # swing, ringing or drift on top of the DC
    g._off_vel = 0.0
    g._off_next = 0  # sample of the next kick / knock
    if code == OFF_AMBIENT:
        # Lamps flicker at twice the mains frequency (100 or 120 Hz).  A sensor whose
        # own sample clock is off by a percent (MAX30102's oscillator) or whose rate
        # divides it nearly evenly sees that flicker aliased to a slow wave, anywhere
        # in the pulse band.  The lamp sets its shape: |sin| (LED on a bare
        # rectifier, sharp cusps), sin^2 (incandescent), in between for others.
        g._off_f = 0.5 + 3.2 * u()
        g._off_amp = 30.0 + 500.0 * u()
        g._off_p = 0.5 + 1.5 * u()
        g._off_wander = 0.002 + 0.02 * u()  # mains frequency wander, relative
    elif code == OFF_DANGLING:
        # A sensor hanging from a loose strap swings like a pendulum (5-25 cm:
        # about 1-2.2 Hz), in and out of the light, kicked again by each arm move.
        g._off_f = 1.0 + 1.2 * u()
        g._off_tau = 2.0 + 6.0 * u()  # s, air damping of the swing
        g._off_amp = 100.0 + 900.0 * u()
    elif code == OFF_DAYLIGHT:
        # Daylight through a window: clouds move the level slowly and widely.
        g._off_f = 0.003 + 0.03 * u()
        g._off_amp = 200.0 + 1500.0 * u()
    else:
        # On a table: nearly flat, knocked now and then (a ringing, a new level).
        g._off_f = 6.0 + 14.0 * u()  # ringing of the case and table
        g._off_tau = 0.05 + 0.25 * u()
        g._off_amp = 50.0 + 1500.0 * u()



def sample(g, code):
    """One sample of the off-wrist scene `code` (a new scene when the code changes)."""
    if code != g._off_code:
        start(g, code)
    rate = g.rate_hz
    t = g._off_t
    g._off_t = t + 1
    u = g._uniform
    noise = 2.0 * g._gauss()
    if code == OFF_AMBIENT:
        f = g._off_f * (1.0 + g._off_wander * math.sin(6.2831853 * t / (rate * 97.0)))
        g._off_phase += 3.14159265 * f / rate  # |sin| has period pi
        w = abs(math.sin(g._off_phase)) ** g._off_p
        v = g._off_dc + g._off_amp * w + noise
    elif code == OFF_DANGLING:
        if t >= g._off_next:
            # An arm move: a new push to the swing.
            g._off_vel += g._off_amp * (u() - 0.5) * 2.0 * 6.2831853 * g._off_f
            g._off_next = t + int(rate * (1.0 + 9.0 * u()))
        w = 6.2831853 * g._off_f
        dt = 1.0 / rate
        acc = -w * w * g._off_level - g._off_vel / g._off_tau
        g._off_vel += acc * dt
        g._off_level += g._off_vel * dt
        v = g._off_dc + g._off_level + noise
    elif code == OFF_DAYLIGHT:
        g._off_phase += 6.2831853 * g._off_f / rate
        g._off_level += 0.5 * g._gauss()  # passing clouds: a slow random walk
        g._off_level *= 0.9995
        v = g._off_dc + g._off_amp * math.sin(g._off_phase) + 40.0 * g._off_level / 8.0 + noise
    else:
        if t >= g._off_next:
            if t:
                g._off_vel = g._off_amp * (u() - 0.5) * 2.0
                if u() < 0.3:  # pushed into a new position: another light level
                    g._off_dc += 300.0 * (u() - 0.5)
            g._off_next = t + int(rate * (2.0 + 58.0 * u()))
        g._off_phase += 6.2831853 * g._off_f / rate
        g._off_vel *= math.exp(-1.0 / (g._off_tau * rate))
        v = g._off_dc + g._off_vel * math.sin(g._off_phase) + 0.5 * noise
    v = int(v)
    return 0 if v < 0 else 4095 if v > 4095 else v

