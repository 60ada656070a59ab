#!/usr/bin/python3
"""Made the small images of tests/cli/t-image.sh once (Debian python3-pil);
they are committed, so the tests need neither PIL nor this script."""
import struct, zlib, gzip
from PIL import Image

def grad(w, h, mode):
    im = Image.new(mode, (w, h))
    for y in range(h):
        for x in range(w):
            v = (x * 255 // (w - 1) + y * 7) % 256
            im.putpixel((x, y), {"L": v, "RGB": (v, 255 - v, (x * 40) % 256),
                                 "RGBA": (v, 255 - v, 17, 128), "I;16": v * 257}[mode])
    return im

grad(8, 6, "L").save("gray.png")
grad(8, 6, "RGB").save("rgb.png")
grad(8, 6, "RGBA").save("rgba.png")
grad(8, 6, "I;16").save("gray16.png")
grad(8, 6, "RGB").convert("P", palette=Image.ADAPTIVE, colors=8).save("palette.png")
grad(32, 24, "RGB").save("rgb.jpg", quality=95)
grad(32, 24, "L").save("gray.jpg", quality=95)
# a 4x4 block pattern whose 2x2 area averages are exact: 2x2 blocks of 0/255
im = Image.new("L", (4, 4))
for y in range(4):
    for x in range(4):
        im.putpixel((x, y), 255 if (x // 2 + y // 2) % 2 else 0)
im.save("blocks.png")

def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
# a PNG whose header claims 100000 x 100000 pixels (valid CRC, no data)
open("huge.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0))
                             + chunk(b"IEND", b""))

# IDX: 3 items of 2x3, every element type; labels as ubyte
vals = [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11], [-1, -2, 100, 120, 127, 50]]
for code, fmt, name in [(0x08, "B", "ubyte"), (0x09, "b", "byte"), (0x0B, "h", "short"),
                        (0x0C, "i", "int"), (0x0D, "f", "float"), (0x0E, "d", "double")]:
    body = b"".join(struct.pack(">" + fmt * 6, *[(v % 256 if fmt == "B" else v) for v in item]) for item in vals)
    open("idx-" + name, "wb").write(bytes([0, 0, code, 3]) + struct.pack(">III", 3, 2, 3) + body)
open("labels", "wb").write(bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + bytes([4, 0, 9]))
with gzip.GzipFile("idx-ubyte.gz", "wb", mtime=0) as f:
    f.write(open("idx-ubyte", "rb").read())
