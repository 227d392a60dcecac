"""The data dictionary and everything derived from it (validation, SQL, wire, layout).

Depends on nothing else of this project.
"""
