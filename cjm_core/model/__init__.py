"""The data model: the journey (stages, roles, industry), the dataset of up to five tables, the
view filters, the pages' view settings bound to the URL, and the table schemas with their roles.

Public names: ``journey.Journey``, ``journey.Stage``, ``journey.default_journey``,
``journey.journey_from_rows``, ``journey.INDUSTRIES``, ``dataset.Dataset``, ``filters.Filters``,
``schema.TABLES``, ``schema.Role``, ``schema.roles_of``, ``settings.Setting``,
``settings.VIEW_SETTINGS``."""
