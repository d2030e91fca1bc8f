"""Seaborn figures.  Every function draws on an optional ``ax`` and returns the Axes."""

from __future__ import annotations

import matplotlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

__all__: list[str] = []

# --- market data and schedules (issue 2) ---

# --- impact (issue 3) ---

# --- simulation and shortfall (issue 4) ---

# --- engine (issue 5) ---
