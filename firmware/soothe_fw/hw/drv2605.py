"""DRV2605L haptic driver over I2C (TI DRV2605L datasheet, section 8.6), in real-time playback:
the motor's strength follows set(duty_pct) at once.  Input: an I2C bus object; ERM (default)
or LRA.  Output: one register write per change of strength; no allocation.
"""
from soothe_fw.compat import const

# registers
DRV_ADDR = const(0x5A)
D_STATUS = const(0x00)
D_MODE = const(0x01)
D_RTP = const(0x02)
D_LIBRARY = const(0x03)
D_FEEDBACK = const(0x1A)
D_CONTROL3 = const(0x1D)
D_MODE_RTP = const(0x05)
D_STANDBY = const(0x40)


class Drv2605:
    """Real-time playback: the motor's strength follows set(duty_pct) at once."""

    def __init__(self, i2c, lra=False, addr=DRV_ADDR):
        self.i2c = i2c
        self.addr = addr
        self._one = bytearray(1)
        self.duty = 0
        self._w(D_MODE, 0x00)  # out of standby, internal trigger
        self._w(D_FEEDBACK, 0x80 if lra else 0x00)  # N_ERM_LRA
        self._w(D_LIBRARY, 6 if lra else 1)  # LRA library, or ERM library A
        self._w(D_CONTROL3, 0x08 | (0x01 if lra else 0x20))  # unsigned RTP data; LRA open loop / ERM open loop
        self._w(D_RTP, 0)
        self._w(D_MODE, D_MODE_RTP)

    def _w(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one)

    def set(self, duty_pct):
        if duty_pct != self.duty:
            self.duty = duty_pct
            self._w(D_RTP, (duty_pct * 255) // 100)

    def standby(self):
        self._w(D_RTP, 0)
        self._w(D_MODE, D_STANDBY)
