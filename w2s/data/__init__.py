"""Datasets: sources of (text, label) examples and their seeded, balanced splits."""
