"""The swimlane journey map: its model, the build from data, the chart, the exports and what the
page says about a version (status).

Public names: ``model.JourneyMap``, ``build.build_map``, ``export.export``, ``export.write``,
``status.map_status``."""
