"""The data dictionary: every entity and field of the CRM, declared once.

``build_dictionary()`` returns a fresh, mutable :class:`Dictionary`; admin-defined custom
fields are added to an instance at run time, so no code may treat the field list as fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from schema import enums as E
from schema.types import SCOPE_FIELDS, Access, Entity, EnumType, Field, FieldType

# Bump MINOR when fields are added (older templates keep working), MAJOR when a change
# makes older workbooks unsafe to push (renamed/removed fields, changed types).
DICTIONARY_VERSION = "1.1.0"

T = FieldType
RO_FOR_SALES = {"sales": Access.READ}


def _f(code: str, type_: FieldType, zh: str, en: str, **kw: object) -> Field:
    return Field(code, type_, zh, en, **kw)  # type: ignore[arg-type]


def _scope_fields() -> list[Field]:
    """Owner, team, region and sharing (``SCOPE_FIELDS``): on every entity, used for row
    permissions."""
    fields = [
        _f("owner", T.TEXT, "负责人", "Owner", max_length=64, access=dict(RO_FOR_SALES),
           hint_zh="登录用户名；留空则为推送人", hint_en="User name; blank means the pusher"),
        _f("team", T.TEXT, "团队", "Team", max_length=64, access=dict(RO_FOR_SALES),
           hint_zh="留空则为负责人所在团队", hint_en="Blank means the owner's team"),
        _f("region", T.ENUM, "区域", "Region", enum=E.REGION),
        _f("shared", T.BOOLEAN, "团队共享", "Shared with team",
           hint_zh="是/否：共享后同团队销售可见", hint_en="Yes/No: visible to the whole team"),
    ]
    assert tuple(f.code for f in fields) == SCOPE_FIELDS
    return fields


def _customer() -> Entity:
    return Entity("customer", "客户", "Customers", "customers", [
        # a name is not an identity (恒通公司 in two cities): the USCC is
        _f("name", T.TEXT, "公司名称", "Company name", required=True, max_length=200),
        _f("uscc", T.USCC, "统一社会信用代码", "Unified social credit code", unique=True),
        _f("parent", T.REFERENCE, "上级单位/总部", "Head office", ref="customer",
           hint_zh="分公司、分部填其总部的公司名称；总部留空",
           hint_en="For a branch: its head office's company name; blank for a head office"),
        _f("industry", T.ENUM, "行业", "Industry", enum=E.INDUSTRY),
        _f("company_size", T.ENUM, "企业规模", "Company size", enum=E.COMPANY_SIZE),
        _f("address", T.TEXT, "地址", "Address", max_length=300),
        _f("website", T.URL, "网址", "Website"),
        _f("phone", T.PHONE, "总机", "Main phone"),
        _f("source_channel", T.ENUM, "来源渠道", "Source channel", enum=E.SOURCE_CHANNEL),
        _f("value_tier", T.ENUM, "价值分层", "Value tier", enum=E.VALUE_TIER),
        _f("intent", T.ENUM, "意向程度", "Intent", enum=E.INTENT),
        _f("status", T.ENUM, "客户状态", "Status", enum=E.CUSTOMER_STATUS),
        _f("product_lines", T.MULTI_ENUM, "关注产品线", "Product lines", enum=E.PRODUCT_LINE),
        _f("decision_chain", T.TEXT, "决策链", "Decision chain", max_length=1000,
           access={"finance": Access.HIDDEN, "support": Access.HIDDEN}),
        _f("notes", T.TEXT, "备注", "Notes", max_length=2000),
        *_scope_fields(),
    ])


def _contact() -> Entity:
    return Entity("contact", "联系人", "Contacts", "customers", [
        _f("customer", T.REFERENCE, "所属客户", "Customer", required=True, ref="customer"),
        _f("name", T.TEXT, "姓名", "Name", required=True, max_length=100, personal=True),
        _f("title", T.TEXT, "职务", "Title", max_length=100),
        _f("mobile", T.PHONE, "手机", "Mobile", personal=True),
        _f("phone", T.PHONE, "座机", "Office phone", personal=True),
        _f("email", T.EMAIL, "邮箱", "Email", personal=True),
        _f("wechat", T.TEXT, "微信", "WeChat", max_length=64, personal=True,
           access={"finance": Access.HIDDEN}),
        _f("decision_role", T.ENUM, "决策角色", "Decision role", enum=E.DECISION_ROLE),
        _f("notes", T.TEXT, "备注", "Notes", max_length=2000),
        *_scope_fields(),
    ], parent="customer")


def _opportunity() -> Entity:
    return Entity("opportunity", "商机", "Opportunities", "opportunities", [
        _f("name", T.TEXT, "商机名称", "Opportunity", required=True, max_length=200),
        _f("customer", T.REFERENCE, "客户", "Customer", required=True, ref="customer"),
        _f("stage", T.ENUM, "阶段", "Stage", required=True, enum=E.STAGE),
        _f("amount", T.MONEY, "金额(元)", "Amount (CNY)", min_value=0),
        _f("product_line", T.ENUM, "产品线", "Product line", enum=E.PRODUCT_LINE),
        _f("expected_close", T.DATE, "预计成交日期", "Expected close date"),
        _f("lost_reason", T.ENUM, "输单原因", "Lost reason", enum=E.LOST_REASON,
           hint_zh="阶段为输单时必填", hint_en="Required when the stage is Lost"),
        _f("next_followup_date", T.DATE, "下次跟进日期", "Next follow-up date"),
        _f("next_followup_plan", T.TEXT, "下次跟进计划", "Next follow-up plan", max_length=500),
        _f("notes", T.TEXT, "备注", "Notes", max_length=2000),
        *_scope_fields(),
    ], parent="customer")


def _activity() -> Entity:
    return Entity("activity", "跟进记录", "Activities", "interactions", [
        _f("customer", T.REFERENCE, "客户", "Customer", required=True, ref="customer"),
        _f("opportunity", T.REFERENCE, "商机", "Opportunity", ref="opportunity"),
        _f("kind", T.ENUM, "类型", "Type", required=True, enum=E.ACTIVITY_KIND),
        _f("subject", T.TEXT, "主题", "Subject", required=True, max_length=200),
        _f("occurred_at", T.DATETIME, "发生时间", "When", required=True),
        _f("notes", T.TEXT, "内容", "Notes", max_length=4000),
        *_scope_fields(),
    ], display_field="subject", parent="customer")


def _ticket() -> Entity:
    return Entity("ticket", "服务工单", "Service tickets", "interactions", [
        _f("customer", T.REFERENCE, "客户", "Customer", required=True, ref="customer"),
        _f("subject", T.TEXT, "问题描述", "Subject", required=True, max_length=300),
        _f("priority", T.ENUM, "优先级", "Priority", enum=E.PRIORITY),
        _f("status", T.ENUM, "状态", "Status", required=True, enum=E.TICKET_STATUS),
        _f("opened_on", T.DATE, "受理日期", "Opened on", required=True),
        _f("closed_on", T.DATE, "关闭日期", "Closed on"),
        _f("satisfaction", T.INTEGER, "满意度(1-5)", "Satisfaction (1-5)",
           min_value=1, max_value=5),
        *_scope_fields(),
    ], display_field="subject", parent="customer")


def _order() -> Entity:
    return Entity("order", "合同订单", "Contracts & orders", "interactions", [
        _f("order_no", T.TEXT, "合同编号", "Order number", required=True, unique=True,
           max_length=64),
        _f("customer", T.REFERENCE, "客户", "Customer", required=True, ref="customer"),
        _f("opportunity", T.REFERENCE, "商机", "Opportunity", ref="opportunity"),
        _f("signed_on", T.DATE, "签约日期", "Signed on", required=True),
        _f("amount", T.MONEY, "合同金额(元)", "Amount (CNY)", required=True, min_value=0),
        _f("status", T.ENUM, "状态", "Status", required=True, enum=E.ORDER_STATUS),
        _f("product_line", T.ENUM, "产品线", "Product line", enum=E.PRODUCT_LINE),
        *_scope_fields(),
    ], display_field="order_no", parent="customer")


def _delivery() -> Entity:
    return Entity("delivery", "交付记录", "Deliveries", "interactions", [
        _f("order", T.REFERENCE, "合同编号", "Order", required=True, ref="order"),
        _f("description", T.TEXT, "交付内容", "Description", required=True, max_length=300),
        _f("delivered_on", T.DATE, "交付日期", "Delivered on"),
        _f("status", T.ENUM, "状态", "Status", required=True, enum=E.DELIVERY_STATUS),
        *_scope_fields(),
    ], display_field="description", parent="order")


def _invoice() -> Entity:
    return Entity("invoice", "发票", "Invoices", "interactions", [
        _f("invoice_no", T.TEXT, "发票号码", "Invoice number", required=True, unique=True,
           max_length=64),
        _f("order", T.REFERENCE, "合同编号", "Order", ref="order",
           hint_zh="合同编号与客户至少填一项", hint_en="An order, a customer, or both"),
        _f("customer", T.REFERENCE, "客户", "Customer", ref="customer",
           hint_zh="留空则取合同的客户", hint_en="Blank means the order's customer"),
        _f("kind", T.ENUM, "类型", "Kind", required=True, enum=E.INVOICE_KIND),
        _f("issued_on", T.DATE, "开票日期", "Issued on", required=True),
        _f("amount", T.MONEY, "金额(元)", "Amount (CNY)", required=True, min_value=0,
           hint_zh="红字发票填正数", hint_en="Credit notes: enter a positive amount"),
        *_scope_fields(),
    ], display_field="invoice_no", parent="order")


def _payment() -> Entity:
    return Entity("payment", "回款", "Payments", "interactions", [
        _f("order", T.REFERENCE, "合同编号", "Order", ref="order",
           hint_zh="合同编号与客户至少填一项", hint_en="An order, a customer, or both"),
        _f("customer", T.REFERENCE, "客户", "Customer", ref="customer",
           hint_zh="留空则取合同的客户", hint_en="Blank means the order's customer"),
        _f("kind", T.ENUM, "类型", "Kind", required=True, enum=E.PAYMENT_KIND),
        _f("paid_on", T.DATE, "到账日期", "Paid on", required=True),
        _f("amount", T.MONEY, "金额(元)", "Amount (CNY)", required=True, min_value=0,
           hint_zh="退款填正数", hint_en="Refunds: enter a positive amount"),
        _f("method", T.ENUM, "付款方式", "Method", enum=E.PAYMENT_METHOD),
        *_scope_fields(),
    ], display_field="order", parent="order")


# Cross-field rules: (entity, field) is required when another field holds a value.
REQUIRED_WHEN: dict[tuple[str, str], tuple[str, str]] = {
    ("opportunity", "lost_reason"): ("stage", "lost"),
}
# Cross-field rules: an entity's row must hold at least one of these fields (a refund or a
# credit note may be tied to a customer rather than an order). When a row names both, the
# second (the customer) must be the first's (the order's customer); when it names only the
# first, the bridge fills the second in from it.
REQUIRED_ONE_OF: dict[str, tuple[str, str]] = {
    "invoice": ("order", "customer"),
    "payment": ("order", "customer"),
}
# What a required-when field holds on a history import when the old records lack it (a
# lost reason of a deal lost years ago): stored with a warning instead of refused.
HISTORY_FALLBACK: dict[tuple[str, str], str] = {
    ("opportunity", "lost_reason"): "unknown",
}


@dataclass
class Dictionary:
    """A live copy of the data dictionary (core entities plus any custom fields)."""

    version: str
    entities: dict[str, Entity]
    enums: dict[str, EnumType] = field(default_factory=dict)
    required_when: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    required_one_of: dict[str, tuple[str, str]] = field(default_factory=dict)
    history_fallback: dict[tuple[str, str], str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.entities.values())

    def entity(self, code: str) -> Entity:
        try:
            return self.entities[code]
        except KeyError:
            raise KeyError(f"unknown entity {code!r}") from None

    def add_custom_field(self, entity: str, f: Field) -> None:
        """Add an admin-defined field; it flows into every derived artifact."""
        ent = self.entity(entity)
        if ent.has_field(f.code):
            raise ValueError(f"{entity}.{f.code} already exists")
        ent.fields.append(replace(f, custom=True))


def build_dictionary() -> Dictionary:
    """A fresh dictionary holding the core entities, in sheet order."""
    ents = [_customer(), _contact(), _opportunity(), _activity(), _ticket(), _order(),
            _delivery(), _invoice(), _payment()]
    return Dictionary(
        version=DICTIONARY_VERSION,
        entities={e.code: e for e in ents},
        enums={e.code: e for e in E.ALL_ENUMS},
        required_when=dict(REQUIRED_WHEN),
        required_one_of=dict(REQUIRED_ONE_OF),
        history_fallback=dict(HISTORY_FALLBACK),
    )
