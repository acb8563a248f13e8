"""A small PNG line chart on the standard library (zlib + struct): no drawing dependency.

What an alarm graph needs and no more: a white canvas, axes with tick marks, the metric as a
blue line with its datapoints, the threshold as a dashed red line, and the breaching
datapoint as a filled red square. No text: the title, the metric and the numbers go in the
Slack message that carries the image.

Example::

    png = line_chart([(0, 1.0), (60, 3.5), (120, 2.0)], threshold=3.0, breach_x=60)
    png[:8] == PNG_SIGNATURE  # an 8-bit RGB PNG, 600 x 300 by default
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
AXIS: Color = (90, 90, 90)
GRID: Color = (232, 232, 232)
LINE: Color = (31, 119, 180)  # CloudWatch's first series blue
THRESHOLD: Color = (214, 39, 40)
BREACH: Color = (214, 39, 40)

# Room left around the plot area (pixels): left, top, right, bottom.
MARGIN = (40, 16, 16, 28)


class Canvas:
    """An RGB raster: ``set`` pixels, ``line`` between points, ``png()`` to encode."""

    def __init__(self, width: int, height: int, background: Color = WHITE) -> None:
        if width < 1 or height < 1:
            raise ValueError(f"canvas must be at least 1 x 1, not {width} x {height}")
        self.width = width
        self.height = height
        self.rows = [bytearray(bytes(background) * width) for _ in range(height)]

    def set(self, x: int, y: int, color: Color) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.rows[y][3 * x : 3 * x + 3] = bytes(color)

    def get(self, x: int, y: int) -> Color:
        r, g, b = self.rows[y][3 * x : 3 * x + 3]
        return (r, g, b)

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        for y in range(min(y0, y1), max(y0, y1) + 1):
            for x in range(min(x0, x1), max(x0, x1) + 1):
                self.set(x, y, color)

    def line(self, x0: int, y0: int, x1: int, y1: int, color: Color, *, width: int = 1, dash: int = 0) -> None:
        """Bresenham's line, ``width`` pixels thick; ``dash`` > 0 draws dash-long on/off runs."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err, step = dx + dy, 0
        lo, hi = -(width // 2), width - width // 2
        while True:
            if not dash or (step // dash) % 2 == 0:
                for o in range(lo, hi):
                    if dx >= -dy:  # mostly horizontal: thicken vertically
                        self.set(x0, y0 + o, color)
                    else:
                        self.set(x0 + o, y0, color)
            if x0 == x1 and y0 == y1:
                return
            step += 1
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(row) for row in self.rows)  # filter type 0 per scanline
        ihdr = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)  # 8-bit RGB
        return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def line_chart(
    points: Sequence[tuple[float, float]],
    *,
    threshold: float | None = None,
    breach_x: float | None = None,
    width: int = 600,
    height: int = 300,
) -> bytes:
    """The PNG of ``points`` ((x, y), any order) as a line, with the threshold line and the
    datapoint nearest ``breach_x`` highlighted. Raises ValueError when there are no points."""
    return chart_canvas(points, threshold=threshold, breach_x=breach_x, width=width, height=height).png()


def chart_canvas(
    points: Sequence[tuple[float, float]],
    *,
    threshold: float | None = None,
    breach_x: float | None = None,
    width: int = 600,
    height: int = 300,
) -> Canvas:
    """``line_chart`` before encoding (tests look at its pixels)."""
    if not points:
        raise ValueError("no datapoints to draw")
    pts = sorted(points)
    left, top, right, bottom = MARGIN
    x0, x1 = left, width - right - 1
    y0, y1 = top, height - bottom - 1
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"{width} x {height} leaves no room for the plot")
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts] + ([threshold] if threshold is not None else [])
    xmin, xmax = xs[0], xs[-1]
    ymin, ymax = min(0.0, min(ys)), max(ys)
    pad = (ymax - ymin) * 0.1 or 1.0
    ymax += pad
    if ymin < 0:
        ymin -= pad

    def px(x: float) -> int:
        return x0 + round((x - xmin) / (xmax - xmin) * (x1 - x0)) if xmax > xmin else (x0 + x1) // 2

    def py(y: float) -> int:
        return y1 - round((y - ymin) / (ymax - ymin) * (y1 - y0))

    c = Canvas(width, height)
    for i in range(1, 5):  # light horizontal grid, four bands
        gy = y1 - round(i * (y1 - y0) / 4)
        c.line(x0 + 1, gy, x1, gy, GRID)
    c.line(x0, y0, x0, y1, AXIS)  # y axis
    c.line(x0, y1, x1, y1, AXIS)  # x axis
    for i in range(5):
        tx = x0 + round(i * (x1 - x0) / 4)
        c.line(tx, y1, tx, y1 + 4, AXIS)
        ty = y1 - round(i * (y1 - y0) / 4)
        c.line(x0 - 4, ty, x0, ty, AXIS)
    if threshold is not None:
        ty = py(threshold)
        c.line(x0 + 1, ty, x1, ty, THRESHOLD, dash=6)
    screen = [(px(x), py(y)) for x, y in pts]
    for (ax, ay), (bx, by) in zip(screen, screen[1:], strict=False):
        c.line(ax, ay, bx, by, LINE, width=2)
    for sx, sy in screen:
        c.rect(sx - 1, sy - 1, sx + 1, sy + 1, LINE)
    if breach_x is not None:
        i = min(range(len(pts)), key=lambda k: abs(pts[k][0] - breach_x))
        bx, by = screen[i]
        c.rect(bx - 4, by - 4, bx + 4, by + 4, BREACH)
    return c


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, RGB rows) of an 8-bit RGB, non-interlaced PNG with filter-0 scanlines
    (what ``Canvas.png`` writes): for tests and checks. Raises ValueError on anything else."""
    if data[:8] != PNG_SIGNATURE:
        raise ValueError("not a PNG (bad signature)")
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if (depth, ctype, interlace) != (8, 2, 0):
                raise ValueError("only 8-bit RGB non-interlaced PNGs are read")
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + 3 * width
    if len(raw) != stride * height:
        raise ValueError("image data does not match IHDR")
    rows = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        if line[0] != 0:
            raise ValueError(f"row {y}: filter {line[0]} is not read")
        rows.append(line[1:])
    return width, height, rows
