"""The UK HH vendor layouts as data: one TOML file each, read by `connectors.tabular.layout`."""
