"""Metrics (official DialDoc normalisation) and the batch evaluation runner."""
