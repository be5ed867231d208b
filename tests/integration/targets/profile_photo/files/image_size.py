# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print {file name: [width, height, format]} for the files given, as JSON."""

import json
import os
import sys

from PIL import Image

sizes = {}
for path in sys.argv[1:]:
    with Image.open(path) as image:
        sizes[os.path.basename(path)] = [image.size[0], image.size[1], image.format]
print(json.dumps(sizes))
