"""The ETHICS tasks (Hendrycks et al. 2021): justice, deontology, virtue, utilitarianism."""

from __future__ import annotations

TASKS: dict = {}
