"""Test-wide settings.

Hypothesis runs derandomized (the same examples on every machine, so CI is
reproducible) and without per-example deadlines (CI machines are shared and
timing is not what these tests check; speed lives in benchmarks/).
"""

from hypothesis import settings

settings.register_profile("execlab", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("execlab")
