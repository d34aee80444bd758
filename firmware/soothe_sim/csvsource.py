"""PPG samples from a CSV recording: one sample per row, or a named column.

Used by the simulated board (`soothe sim --ppg`) and by `soothe replay`, under
MicroPython and CPython.  Malformed input raises CSVError with the line number
and what to fix.  Float recordings (e.g. normalised -1..1) are scaled to
integer ADC-like counts from the first rows, because the detector works in integers;
`scaled` is then True and the counts have no ADC ceiling (nothing can saturate).
"""


class CSVError(ValueError):
    pass


def _split(line):
    for sep in (",", ";", "\t"):
        if sep in line:
            return [c.strip().strip('"') for c in line.split(sep)]
    return [line.strip().strip('"')]


class CSVSamples:
    def __init__(self, path, column=None):
        try:
            self._f = open(path, "rb")
        except OSError:
            raise CSVError("cannot open PPG file %s: check the path" % path)
        self.path = path
        # Bytes read in 4 KB chunks: readline cost a system call per byte on the unix
        # port, and slicing a str is O(n) in MicroPython (UTF-8), slicing bytes is not.
        self._buf = b""
        self._pos = 0
        self.line_no = 0
        self.col = 0
        self.scale = 1.0
        self.scaled = False
        self.offset = 0.0
        self.done = False
        first = self._next_line()
        if first is None:
            raise CSVError("%s is empty: need one sample per row" % path)
        cells = _split(first)
        header = False
        for cell in cells:
            try:
                float(cell)
            except ValueError:
                header = True
        if header:
            if column is not None:
                if column not in cells:
                    raise CSVError("%s has no column %r (columns: %s)" % (path, column, ", ".join(cells)))
                self.col = cells.index(column)
            elif len(cells) > 1:
                # Reading the first column by default replayed a time column as PPG (0 beats).
                raise CSVError("%s has %d columns (%s): name the PPG one with --column"
                               % (path, len(cells), ", ".join(cells)))
            else:
                self.col = 0
            self._head = []
        else:
            if column is not None and not column.isdigit():
                raise CSVError("%s has no header row, so --column must be a number" % path)
            if column is None and len(cells) > 1:
                raise CSVError("%s has %d columns and no header: pick one with --column 0..%d"
                               % (path, len(cells), len(cells) - 1))
            self.col = int(column) if column is not None else 0
            self._head = [self._parse(first)]
        # Look ahead to choose an integer scale for float data.
        while len(self._head) < 200:
            line = self._next_line()
            if line is None:
                break
            self._head.append(self._parse(line))
        if not self._head:
            raise CSVError("%s has a header but no samples" % path)
        lo = min(self._head)
        hi = max(self._head)
        # Integers are sensor counts and are kept as they are, even when the first
        # rows are nearly flat (a sensor before contact): scaling those by their
        # tiny span sent the real pulse later on far past the ADC range.
        fractional = any(v != int(v) for v in self._head)
        if fractional:
            span = hi - lo if hi > lo else 1.0
            self.scale = 2000.0 / span
            self.offset = lo
            self.scaled = True
        self._i = 0

    def _readline(self):
        buf = self._buf
        while True:
            nl = buf.find(b"\n", self._pos)
            if nl >= 0:
                line = buf[self._pos:nl]
                self._pos = nl + 1
                break
            chunk = self._f.read(4096)
            if not chunk:
                line = buf[self._pos:]
                self._buf = b""
                self._pos = 0
                if not line:
                    return None
                break
            buf = self._buf = buf[self._pos:] + chunk
            self._pos = 0
        try:
            return line.decode()
        except UnicodeError:
            raise CSVError("%s line %d: not text (is it a CSV file?)" % (self.path, self.line_no + 1))

    def _next_line(self):
        while True:
            line = self._readline()
            if line is None:
                return None
            self.line_no += 1
            line = line.strip()
            if line and not line.startswith("#"):
                return line

    def _parse(self, line):
        cells = _split(line)
        if self.col >= len(cells):
            raise CSVError("%s line %d: expected at least %d columns, found %d"
                           % (self.path, self.line_no, self.col + 1, len(cells)))
        try:
            return float(cells[self.col])
        except ValueError:
            raise CSVError("%s line %d: %r is not a number" % (self.path, self.line_no, cells[self.col]))

    def _to_int(self, v):
        if self.scale == 1.0:
            return int(v)
        return int((v - self.offset) * self.scale)

    def fill(self, buf, count):
        """Writes up to count samples; returns how many (0 at the end of the file)."""
        n = 0
        if self.done:
            return 0
        while n < count:
            if self._i < len(self._head):
                v = self._head[self._i]
                self._i += 1
            else:
                line = self._next_line()
                if line is None:
                    self.done = True
                    self._f.close()
                    break
                v = self._parse(line)
            buf[n] = self._to_int(v)
            n += 1
        return n
