"""The stdlib PNG line chart (bot.graphs.png): a valid PNG whose pixels show the line, the
threshold and the breach, decoded independently of the writer (zlib + struct here)."""

from __future__ import annotations

import struct
import zlib

import pytest

from bot.graphs.png import BREACH, LINE, MARGIN, PNG_SIGNATURE, THRESHOLD, Canvas, chart_canvas, line_chart, read_png


def _decode(data: bytes) -> tuple[int, int, list[bytes]]:
    """A reader written from the PNG spec, not from bot.graphs.png: chunks, CRCs, IHDR, IDAT."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body, crc = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n], data[pos + 8 + n : pos + 12 + n]
        assert struct.unpack(">I", crc)[0] == zlib.crc32(kind + body)
        chunks.append((kind, body))
        pos += 12 + n
    assert [k for k, _ in chunks][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    w, h, depth, ctype, comp, filt, inter = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, ctype, comp, filt, inter) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    stride = 1 + 3 * w
    assert len(raw) == stride * h
    return w, h, [raw[y * stride + 1 : (y + 1) * stride] for y in range(h)]


def _count(rows: list[bytes], color: tuple[int, int, int]) -> int:
    target = bytes(color)
    return sum(1 for row in rows for x in range(0, len(row), 3) if row[x : x + 3] == target)


def _pixel(rows: list[bytes], x: int, y: int) -> tuple[int, int, int]:
    r, g, b = rows[y][3 * x : 3 * x + 3]
    return (r, g, b)


POINTS = [(float(t * 300), v) for t, v in enumerate([12.0, 15.0, 11.0, 30.0, 45.0, 97.0, 95.0, 60.0])]


def test_the_chart_is_a_valid_png_of_the_asked_size():
    data = line_chart(POINTS, threshold=90.0, breach_x=1500.0, width=480, height=240)
    assert data[:8] == PNG_SIGNATURE
    assert struct.unpack(">II", data[16:24]) == (480, 240)  # IHDR width, height
    w, h, rows = _decode(data)
    assert (w, h) == (480, 240)
    assert read_png(data)[2] == rows  # the project's reader agrees with the spec reader


def test_the_line_threshold_and_breach_are_drawn():
    _, _, rows = _decode(line_chart(POINTS, threshold=90.0, breach_x=1500.0))
    assert _count(rows, LINE) > 500  # 7 segments, 2 px thick, across ~540 px
    assert _count(rows, THRESHOLD) > 150  # dashed across the plot (BREACH is the same red)
    # the threshold is one dashed row: the most red row, above the middle (90 of ~107)
    red_rows = sorted(range(len(rows)), key=lambda y: _count([rows[y]], THRESHOLD), reverse=True)
    top, bottom = MARGIN[1], 300 - MARGIN[3] - 1
    assert top < red_rows[0] < (top + bottom) / 2


def test_the_breach_square_sits_on_the_breaching_datapoint():
    c = chart_canvas(POINTS, threshold=90.0, breach_x=1510.0)  # nearest datapoint: x=1500 (97.0)
    left, _, right, _ = MARGIN
    x = left + round(1500 / 2100 * (600 - right - 1 - left))
    column = [c.get(x, y) for y in range(c.height)]
    reds = [y for y, px in enumerate(column) if px == BREACH]
    assert len(reds) >= 9  # the 9 x 9 square (plus the threshold, maybe)
    # the square is the highest point of the line: nothing blue above it in that column
    assert all(px != LINE for px in column[: min(reds)])


def test_without_threshold_or_breach_only_the_line_is_coloured():
    _, _, rows = _decode(line_chart(POINTS))
    assert _count(rows, THRESHOLD) == 0
    assert _count(rows, LINE) > 500


def test_one_datapoint_and_flat_series_are_drawable():
    _, _, rows = _decode(line_chart([(0.0, 5.0)], threshold=5.0, breach_x=0.0))
    assert _count(rows, BREACH) >= 81
    _, _, rows = _decode(line_chart([(0.0, 0.0), (60.0, 0.0)]))
    assert _count(rows, LINE) > 100


def test_negative_values_stay_inside_the_canvas():
    data = line_chart([(0.0, -50.0), (60.0, 20.0), (120.0, -5.0)], threshold=0.0)
    _, h, rows = _decode(data)
    assert h == 300 and _count(rows, LINE) > 100


def test_nothing_to_draw_is_a_clear_error():
    with pytest.raises(ValueError, match="no datapoints"):
        line_chart([])
    with pytest.raises(ValueError, match="no room"):
        line_chart(POINTS, width=40, height=20)
    with pytest.raises(ValueError):
        Canvas(0, 10)


def test_the_reader_refuses_what_is_not_a_png():
    with pytest.raises(ValueError, match="signature"):
        read_png(b"GIF89a" + b"\0" * 20)
    data = bytearray(line_chart(POINTS))
    data[30] ^= 0xFF  # inside IHDR: its CRC no longer matches
    with pytest.raises(ValueError, match="CRC"):
        read_png(bytes(data))


def test_canvas_line_is_continuous_and_dashes_alternate():
    c = Canvas(50, 20)
    c.line(0, 10, 49, 10, LINE)
    assert all(c.get(x, 10) == LINE for x in range(50))
    d = Canvas(50, 20)
    d.line(0, 5, 49, 5, THRESHOLD, dash=5)
    drawn = [d.get(x, 5) == THRESHOLD for x in range(50)]
    assert drawn[:5] == [True] * 5 and drawn[5:10] == [False] * 5 and sum(drawn) == 25
