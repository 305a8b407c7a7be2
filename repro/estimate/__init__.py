"""Time and cost to target before a cent is spent: `repro estimate`.

Steps to target (measured runs, or a recipe's published epoch of reaching its target) × step time
(measured runs on disk, a calibration on this machine, or the shipped throughput table) × the
billing rules of every offer in the price snapshot. See docs/estimate.md.
"""
from repro.estimate.estimator import Estimate, EstimateError, EstimateRequest, estimate, estimate_for_run

__all__ = ["Estimate", "EstimateError", "EstimateRequest", "estimate", "estimate_for_run"]
