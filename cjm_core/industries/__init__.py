"""What each industry (ISIC 4773, 4741, 4742) brings, in one place: its journey (stages and stage
roles, `journeys`), its map template (actions, thoughts, emotions, opportunities per stage,
`map_templates`) and its targets from the seeds, editable per workspace (`targets`). The sample
profiles that generate demo data live with the generator in :mod:`cjm_core.demo`.

Public names: ``journeys.INDUSTRIES``, ``journeys.JOURNEY_TEMPLATES``, ``map_templates.TEMPLATES``,
``targets.Target``, ``targets.targets_for``, ``targets.evaluate``."""
