"""Setup wizards: one page class per file, shared pages specialised per connector.

`source_wizard` holds the pages together; `kinds` lists the kinds of source; `pages`,
`push` and `verdigris` hold the pages.

May import: `app.ui` helpers, `app.ui.settings` and `app.core`, the connectors.
Must never import the main window."""
