"""Persistence and access: the DuckDB workspace store, split by concern into small repositories
over one connection helper, the workspace-level operations on top of it, and the password gate.

- ``database``: ``Database`` (connect, thread cursors, transactions, migrations, checkpoints)
- ``rows``: the typed rows handed out (``Workspace``, ``Mapping``, ``MapVersion``, ``MapBody``,
  ``Upload``, ``ShareLink``, ``StoredTable``)
- ``workspace_repo``, ``journey_repo``, ``table_repo``, ``upload_repo``, ``mapping_repo``,
  ``setting_repo``, ``map_version_repo``, ``share_link_repo``: one repository per concern
- ``protocol``: ``WorkspaceStore`` (what a page may ask of a store) and its method groups
- ``store``: ``Store``, the composition root (the owner's store), ``Store.shared``
- ``scoped``: what a share link grants, ``ReadOnlyStore`` (view) and ``EditStore`` (edit)
- ``names``: checks and foldings run before any SQL (workspace ids, table names, signatures)
- ``workspaces``: ``load_dataset``, ``new_workspace``, ``save_loads``, sample workspaces
- ``access``: the password / OIDC gate

Public names: ``store.Store``, ``protocol.WorkspaceStore``, ``scoped.ScopedStore``,
``scoped.ReadOnlyStore``, ``scoped.EditStore``, ``rows.*``, ``workspaces.load_dataset``,
``workspaces.new_workspace``, ``workspaces.save_loads``."""
