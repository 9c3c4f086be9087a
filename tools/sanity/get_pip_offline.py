"""Stand-in for ansible-test's pip bootstrap script on machines without ci-files access.

ansible-test downloads get-pip.py from ci-files.testing.ansible.com to put pip into
each sanity venv; that host is not reachable here, PyPI is. This script, run the
same way (options on the command line), installs Python's bundled pip with
ensurepip and then the pip version ansible-test asked for from PyPI.
"""

import subprocess
import sys


def main():
    options = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"],
                          stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + options)


if __name__ == "__main__":
    main()
