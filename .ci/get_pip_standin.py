# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for get-pip.py, which ansible-test downloads from a host this network cannot reach.

ansible-test runs it in a new virtual environment with pip's arguments (e.g. pip==24.2).
It bootstraps pip with the standard library's ensurepip, then installs what was asked for.
"""

from __future__ import annotations

import os
import subprocess
import sys

# get-pip.py's own flags, which pip itself does not know.
GET_PIP_ONLY_FLAGS = ("--no-setuptools", "--no-wheel")


def main():
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
    env = dict(os.environ)
    # ensurepip sets PIP_CONFIG_FILE=/dev/null; pip would then lose the machine's index and certificate settings.
    env.pop("PIP_CONFIG_FILE", None)
    sys.exit(subprocess.run([sys.executable, "-m", "pip", "install"] + args, env=env, check=False).returncode)


if __name__ == "__main__":
    main()
