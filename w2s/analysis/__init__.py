"""Results: the predictions file format, metrics, the summary tables and plots. No torch: fast to import."""
