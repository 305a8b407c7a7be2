"""Pricing: dated price snapshots, provider billing rules, the cost of every run (cost.json).

Knows nothing about torch; reads run directories, never live objects.
"""
from repro.pricing.billing import format_cost_lines, price_run
from repro.pricing.catalog import Offer, PriceSnapshotError, Snapshot, load_snapshot

__all__ = ["Offer", "PriceSnapshotError", "Snapshot", "format_cost_lines", "load_snapshot", "price_run"]
