"""A fake `neopixel` module (installed as sys.modules['neopixel'] by a test): every NeoPixel
the board builds is kept in `made`, with the pin it drives and the colours it wrote."""
from fake_i2c import FakeNeoPixel

made = []


def NeoPixel(pin, n):
    px = FakeNeoPixel(n)
    px.pin = pin.n
    made.append(px)
    return px
