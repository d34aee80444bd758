"""One WS2812 (NeoPixel) RGB pixel as the status LED.  Input: a NeoPixel-like object
(`np[0] = (r, g, b)`, `np.write()`: neopixel.NeoPixel on the device, a fake in tests).
Output: a write only when the colour changes; set_rgb allocates nothing.
"""


class Ws2812Led:
    """One WS2812 pixel through a NeoPixel-like object (`np[0] = (r, g, b)`, `np.write()`)."""

    def __init__(self, np):
        self.np = np
        self.rgb = [0, 0, 0]  # updated in place: set_rgb allocates nothing

    def set_rgb(self, r, g, b):
        rgb = self.rgb
        if r != rgb[0] or g != rgb[1] or b != rgb[2]:
            rgb[0] = r
            rgb[1] = g
            rgb[2] = b
            self.np[0] = rgb  # NeoPixel copies the 3 items into its buffer
            self.np.write()
