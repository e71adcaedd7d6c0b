"""Stand-in for the get-pip bootstrap script ansible-test downloads from a host this lab cannot reach.

ansible-test runs it in a fresh venv with pip's install arguments. We bootstrap the pip bundled with
Python (ensurepip) and let it install the exact pip version ansible-test asked for from the package
registry, which the lab does reach. lab/setup.sh copies it to ansible-test's cache path.
"""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null in this process; the real install must see the
# machine's pip settings (index, CA bundle), so it runs without that override.
os.environ.pop("PIP_CONFIG_FILE", None)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
