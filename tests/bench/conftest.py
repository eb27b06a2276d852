"""The benchmarks here are scripts that print figures, not tests: never collect them."""

collect_ignore_glob = ["*.py"]
