#!/usr/bin/env python3
"""Draws the installable app's PNG icons (templates/web/static/icon-*.png) from
the shapes of favicon.svg, with the standard library only:

  icon-192.png, icon-512.png   the favicon's rounded square, for "any" purpose
  icon-maskable-512.png        full-bleed background, the page inside the
                               central safe zone (a launcher may cut a circle)

Run from the repository root: python3 scripts/app-icons.py
"""
import struct
import zlib

BLUE, WHITE, PALE, GREEN = (0x1D, 0x4E, 0xD8), (255, 255, 255), (0xBF, 0xDB, 0xFE), (0x16, 0x65, 0x34)


def inside_polygon(x, y, pts):
    hit = False
    j = len(pts) - 1
    for i in range(len(pts)):
        (xi, yi), (xj, yj) = pts[i], pts[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            hit = not hit
        j = i
    return hit


def near_polyline(x, y, pts, half_width):
    for (ax, ay), (bx, by) in zip(pts, pts[1:]):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        px, py = ax + t * dx, ay + t * dy
        if (x - px) ** 2 + (y - py) ** 2 <= half_width ** 2:
            return True
    return False


def in_rounded_square(x, y, radius):
    cx = min(max(x, radius), 32 - radius)
    cy = min(max(y, radius), 32 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2 and 0 <= x <= 32 and 0 <= y <= 32


def colour_at(x, y, maskable):
    """The colour at (x, y) in the favicon's 32-unit box; None outside the icon."""
    if maskable:
        # The page drawn at 70 % around the centre: inside the 80 % safe circle.
        x, y = (x - 16) / 0.7 + 16, (y - 16) / 0.7 + 16
    elif not in_rounded_square(x, y, 7):
        return None
    if near_polyline(x, y, [(12.5, 18.5), (15.5, 21.5), (21, 15.5)], 1.25):
        return GREEN
    if inside_polygon(x, y, [(19, 6), (24, 11), (19, 11)]):
        return PALE
    if inside_polygon(x, y, [(9, 6), (19, 6), (24, 11), (24, 26), (9, 26)]):
        return WHITE
    return BLUE


def draw(size, maskable, samples=3):
    rows = []
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            r = g = b = a = 0
            for sy in range(samples):
                for sx in range(samples):
                    x = (px + (sx + 0.5) / samples) * 32 / size
                    y = (py + (sy + 0.5) / samples) * 32 / size
                    c = colour_at(x, y, maskable)
                    if c:
                        r, g, b, a = r + c[0], g + c[1], b + c[2], a + 1
            n = samples * samples
            row += bytes([r // a, g // a, b // a, 255 * a // n] if a else [0, 0, 0, 0])
        rows.append(bytes(row))
    return png(size, b"".join(rows))


def png(size, raw):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    for name, size, maskable in [("icon-192", 192, False), ("icon-512", 512, False), ("icon-maskable-512", 512, True)]:
        with open(f"templates/web/static/{name}.png", "wb") as f:
            f.write(draw(size, maskable))
