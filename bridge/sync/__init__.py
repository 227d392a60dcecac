"""The sync engine: push (validate, merge, apply, audit) and pull (scoped, columnar)."""
