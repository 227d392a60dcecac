"""Imports (issue 10, bridge side): staging, match keys, dry run, confirm and undo."""
