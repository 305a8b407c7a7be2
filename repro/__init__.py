"""repro: time deep-learning recipes to a target accuracy, price the runs, publish the leaderboard."""
from importlib import metadata

try:
    __version__ = metadata.version("repro")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
