"""The journal commands: `deliver`, `status`, `replay` (`commands`) and `held` (`held`);
`send` through the journal (`send`, registered by `convert_cmd`); the connection options and
the delivery they share (`deliver`).

May import: `app.cli`, `app.core`. Must never import `app.ui` or `app.cli.pull`, nor pandas
when a command is registered (`send` loads only when it runs).
"""
