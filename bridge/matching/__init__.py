"""The matching store: each customer's match keys and parsed profile, kept by the push engine
in the same transaction, and the look-up of the visible records a new one may be. Used by
the push (``SIMILAR_RECORD``) and by the import's dry run alike."""
