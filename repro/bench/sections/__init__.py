"""The sections of `repro bench gpu`, a–f. Each is `run(profile, work_dir, budget) -> dict` of plain
data (numbers as numbers), raising when it cannot measure what it promises."""
