"""HTTP routes, thin over the sync engine, auth and audit modules."""
