"""Persistence and access: the DuckDB workspace store (workspaces, tables, mappings, map versions,
share links), workspace-level operations, and the password/OIDC gate.

Public names: ``store.Store``, ``workspaces.load_dataset``, ``workspaces.new_workspace``,
``workspaces.save_loads``."""
