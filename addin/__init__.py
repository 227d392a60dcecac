"""The Excel add-in: ribbon commands, the workbook port and the headless ``crm-sheet`` CLI.

Talks to the bridge only over HTTP (``addin.client``).
"""
