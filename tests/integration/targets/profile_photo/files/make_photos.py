# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write test photos: make_photos.py DIR NAME=WIDTHxHEIGHT:COLOUR ... (format from the extension).

PNG files get an alpha channel, GIF files a palette; JPEG files carry EXIF orientation 6 (rotate 90 degrees).
Prints {name: [width, height]} of each displayed (oriented) image as JSON.
"""

import json
import os
import sys

from PIL import Image, ImageColor


def main():
    directory = sys.argv[1]
    os.makedirs(directory, exist_ok=True)
    shown = {}
    for spec in sys.argv[2:]:
        name, rest = spec.split("=", 1)
        size, colour = rest.split(":", 1)
        width, height = (int(value) for value in size.split("x"))
        image = Image.new("RGB", (width, height), ImageColor.getrgb(colour))
        image.paste((255, 255, 255), (0, 0, width // 4, height // 4))
        path = os.path.join(directory, name)
        extension = os.path.splitext(name)[1].lower()
        if extension == ".png":
            image.convert("RGBA").save(path)
        elif extension == ".gif":
            image.convert("P").save(path)
        else:
            exif = Image.Exif()
            exif[0x0112] = 6
            image.save(path, format="JPEG", quality=90, exif=exif)
            width, height = height, width
        shown[name] = [width, height]
    print(json.dumps(shown))


if __name__ == "__main__":
    main()
