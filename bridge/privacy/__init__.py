"""Privacy: erasure of a data subject, legal holds, subject access, retention (issue 19).

- ``subjects``: what a subject is (``contact:<id>``, a sole-trader ``customer:<id>``), the
  records and fields it covers, the values stored about it;
- ``hold``: legal holds on records, which block erasure and retention;
- ``scrub``: the system tables that may copy a value (stored push answers, staged imports,
  match keys), searched and cleared;
- ``erase``: the dry run (what will go) and the erasure, built on
  ``bridge.audit.forget_subject`` (the subject's audit key destroyed, the chain intact);
- ``export``: everything stored about one subject, as JSON and as a workbook
  (``workbook``);
- ``retention``: per-entity retention rules and their (dry) runs;
- ``commands``: the ``crm-bridge`` commands.
"""
