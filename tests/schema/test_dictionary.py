"""The dictionary is complete, and every artifact derived from it agrees with it."""

from __future__ import annotations

import re

from schema.dictionary import build_dictionary
from schema.layout import SYSTEM_KEYS, workbook_layout
from schema.permissions import ROLES, field_access, row_scope
from schema.sql import NAME_KEY, RECORD_COLUMNS, build_metadata, named_entities, table_name
from schema.types import SCOPE_FIELDS, SYSTEM_COLUMNS, Access, FieldType

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_entity_field_and_enum_value_has_both_labels() -> None:
    d = build_dictionary()
    for e in d:
        assert CJK.search(e.zh) and e.en and not CJK.search(e.en), e.code
        for f in e.fields:
            assert CJK.search(f.zh), f"{e.code}.{f.code} lacks a Chinese label"
            assert f.en and not CJK.search(f.en), f"{e.code}.{f.code} lacks an English label"
            if f.enum is not None:
                for v in f.enum.values:
                    assert CJK.search(v.zh) or v.zh[0].isdigit(), v
                    assert v.en and not CJK.search(v.en), v
    for en in d.enums.values():
        assert len(set(en.lookup().values())) == len(en.values), f"{en.code}: labels collide"


def test_codes_are_stable_identifiers_and_unique() -> None:
    d = build_dictionary()
    for e in d:
        codes = e.field_codes()
        assert len(codes) == len(set(codes)), e.code
        for c in codes:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", c), c
            assert c not in SYSTEM_COLUMNS or c in ("owner", "team", "region", "shared")


def test_references_point_to_entities_with_a_display_field() -> None:
    d = build_dictionary()
    for e in d:
        assert e.has_field(e.display_field), e.code
        for f in e.fields:
            if f.type is FieldType.REFERENCE:
                assert f.ref in d.entities, f"{e.code}.{f.code} -> {f.ref}"


def test_every_table_column_maps_to_a_field_or_a_system_column() -> None:
    d = build_dictionary()
    md = build_metadata(d)
    assert set(md.tables) == {table_name(e.code) for e in d}
    for e in d:
        key = [NAME_KEY] if e.code in named_entities(d) else []
        cols = {c.name for c in md.tables[table_name(e.code)].columns}
        assert cols == set(e.field_codes()) | (set(SYSTEM_COLUMNS) - set(SCOPE_FIELDS)) | \
            set(key), e.code
        names = [c.name for c in md.tables[table_name(e.code)].columns]
        assert names == [*RECORD_COLUMNS, *e.field_codes(), *key], e.code


def test_layout_has_every_field_once_plus_system_columns() -> None:
    d = build_dictionary()
    for lang in ("zh", "en"):
        for sheet, e in zip(workbook_layout(d, lang), d, strict=True):
            assert sheet.keys() == [*SYSTEM_KEYS[:2], *e.field_codes(), *SYSTEM_KEYS[2:]]
            hidden = {c.key for c in sheet.columns if c.hidden}
            assert hidden == set(SYSTEM_KEYS[2:])


def test_custom_field_flows_into_every_artifact() -> None:
    from schema.types import Field

    d = build_dictionary()
    d.add_custom_field("customer", Field("vip_code", FieldType.TEXT, "VIP编号", "VIP code"))
    assert "vip_code" in {c.name for c in build_metadata(d).tables["crm_customer"].columns}
    assert "vip_code" in workbook_layout(d, "en")[0].keys()  # noqa: SIM118
    assert build_dictionary().entity("customer").has_field("vip_code") is False


def test_roles_cover_every_entity_and_narrow_never_widen() -> None:
    d = build_dictionary()
    for r in ROLES:
        for e in d:
            scope = row_scope(r, e)
            for f in e.fields:
                a = field_access(r, e, f)
                if ROLES[r].modules.get(e.module, (None, Access.HIDDEN))[1] is Access.READ:
                    assert a is not Access.WRITE
                if scope.value == "none":
                    assert a is Access.HIDDEN
