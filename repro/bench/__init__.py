"""`repro bench gpu`: the one prepared command that proves the GPU path in a few minutes.

It drives repro's own training loop and PyPI airbench side by side, so it sits at the
orchestrator's level. Each section (repro.bench.sections) measures one thing and returns plain
data; repro.bench.gpu runs them within a time budget and writes one JSON file. `--dry-run` runs
every section on the CPU at tiny sizes and marks each result as a CPU dry run.
"""
