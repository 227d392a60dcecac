"""Importing foreign spreadsheets and CSV files (issue 10): read, map, dry run, confirm."""
