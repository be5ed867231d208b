# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: write a JPEG photo of a given colour. Usage: make_photo.py PATH R G B"""
import sys

from PIL import Image

Image.new("RGB", (400, 300), tuple(int(value) for value in sys.argv[2:5])).save(sys.argv[1], quality=90)
