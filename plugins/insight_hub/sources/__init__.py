"""Source connectors and the registry that says which source entity reads what."""
