"""What each industry (ISIC 4773, 4741, 4742) brings: its targets from the seeds, editable per
workspace (its journey templates live in :mod:`cjm_core.model.journey` for now).

Public names: ``targets.Target``, ``targets.targets_for``, ``targets.evaluate``."""
