"""Pricing: dated price snapshots, provider billing rules, the cost of every run (cost.json).

Knows nothing about torch; reads run directories, never live objects.
"""
