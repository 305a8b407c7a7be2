"""The `repro` command's sub-commands, one module per group (train, lr_find, prices, report, export,
reproduce), each with `register(subparsers)`; `output` is their only printer. `repro.cli` wires
them. Nothing below this package imports it."""
