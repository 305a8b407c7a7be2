"""The embedded recipe: scikit-learn's 1,797 real 8×8 handwritten-digit scans, CPU, seconds."""
from repro.recipes.base import DataSpec, ModelSpec, OptimSpec, Recipe, ScheduleSpec

DIGITS = Recipe(
    name="digits",
    task="digits",
    description="Small conv net on scikit-learn's load_digits (8×8 scans, 10 classes), "
                "one-cycle LR with inverse momentum; the CPU walking skeleton of the kit.",
    model=ModelSpec(name="digits_net", num_classes=10, width=32),
    data=DataSpec(name="digits", batch_size=64, eval_batch_size=512),
    optim=OptimSpec(name="sgd", peak_lr=0.2, weight_decay=5e-4, nesterov=True),
    schedule=ScheduleSpec(kind="one_cycle", pct_start=0.25, div=10.0, final_div=100.0,
                          final_phase=0.1, momentum_max=0.95, momentum_min=0.85),
    epochs=10,
    target_metric="top1",
    target=0.97,
    precision="fp32",
    gpus=0,
    published_claim="",
    published_source="",
)
