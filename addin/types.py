"""Names for the values that travel between the add-in's modules.

A sheet's rows are held in a DataFrame whose index labels are *frame labels*: the sheet row
a row was read from, and for rows added during an action (pulled, restored) the next free
numbers. Where a row lands when the sheet is written is its *sheet row*; both are ints, the
alias says which one a name holds.
"""

from __future__ import annotations

from typing import Any, Literal

FrameLabel = int  # a row's label in a sheet's frame (its sheet row as read)
SheetRow = int  # a 1-based row number as the user sees it in Excel
RecordId = str  # a record's ``_id`` (a UUID)
EntityCode = str  # ``customer``, ``contact``...
FieldCode = str  # ``name``, ``industry``... or a system key (``_status``)
Values = dict[FieldCode, Any]  # canonical values of a row, by field code
Op = Literal["insert", "update", "delete", "drop"]  # ``drop``: a new row the user deleted
