"""The shared vocabularies (enums) of the data dictionary, each value with zh-CN and English labels.

Order matters: it is the order of dropdowns and of report rows (the funnel follows STAGE).
"""

from __future__ import annotations

from schema.types import EnumType, EnumValue


def _enum(code: str, zh: str, en: str, *values: tuple[str, str, str]) -> EnumType:
    return EnumType(code, zh, en, tuple(EnumValue(*v) for v in values))


STAGE = _enum(
    "stage", "销售阶段", "Stage",
    ("initial_contact", "初步接洽", "Initial contact"),
    ("needs_analysis", "需求分析", "Needs analysis"),
    ("proposal", "方案/报价", "Proposal/quote"),
    ("negotiation", "商务谈判", "Negotiation"),
    ("won", "赢单", "Won"),
    ("lost", "输单", "Lost"),
)
CLOSED_STAGES = ("won", "lost")  # the STAGE codes that end a deal (a close date belongs to them)
LOST_REASON = _enum(
    "lost_reason", "输单原因", "Lost reason",
    ("price", "价格过高", "Price too high"),
    ("competitor", "选择竞品", "Chose a competitor"),
    ("no_budget", "无预算", "No budget"),
    ("no_decision", "需求取消/无决策", "No decision"),
    ("timing", "时机不对", "Bad timing"),
    ("other", "其他", "Other"),
    ("unknown", "未知（历史导入）", "Unknown (imported history)"),
)
INDUSTRY = _enum(
    "industry", "行业", "Industry",
    ("manufacturing", "制造业", "Manufacturing"),
    ("it", "信息技术", "Information technology"),
    ("finance", "金融", "Finance"),
    ("retail", "零售", "Retail"),
    ("healthcare", "医疗健康", "Healthcare"),
    ("education", "教育", "Education"),
    ("logistics", "物流", "Logistics"),
    ("energy", "能源", "Energy"),
    ("construction", "建筑地产", "Construction & real estate"),
    ("government", "政府/公共事业", "Government & public sector"),
    ("other", "其他", "Other"),
)
COMPANY_SIZE = _enum(
    "company_size", "企业规模", "Company size",
    ("micro", "1-19人", "1-19 staff"),
    ("small", "20-99人", "20-99 staff"),
    ("medium", "100-499人", "100-499 staff"),
    ("large", "500-999人", "500-999 staff"),
    ("xlarge", "1000人以上", "1000+ staff"),
)
REGION = _enum(
    "region", "区域", "Region",
    ("north", "华北", "North China"),
    ("east", "华东", "East China"),
    ("south", "华南", "South China"),
    ("central", "华中", "Central China"),
    ("southwest", "西南", "Southwest China"),
    ("northwest", "西北", "Northwest China"),
    ("northeast", "东北", "Northeast China"),
    ("overseas", "海外", "Overseas"),
)
SOURCE_CHANNEL = _enum(
    "source_channel", "来源渠道", "Source channel",
    ("website", "官网", "Website"),
    ("referral", "客户转介绍", "Referral"),
    ("exhibition", "展会", "Trade show"),
    ("cold_call", "电话开发", "Cold call"),
    ("partner", "合作伙伴", "Partner"),
    ("social", "社交媒体", "Social media"),
    ("other", "其他", "Other"),
)
VALUE_TIER = _enum(
    "value_tier", "价值分层", "Value tier",
    ("a", "A类(重点)", "A (key account)"),
    ("b", "B类(普通)", "B (standard)"),
    ("c", "C类(潜在)", "C (potential)"),
)
INTENT = _enum(
    "intent", "意向程度", "Intent",
    ("high", "高", "High"),
    ("medium", "中", "Medium"),
    ("low", "低", "Low"),
)
CUSTOMER_STATUS = _enum(
    "customer_status", "客户状态", "Customer status",
    ("prospect", "潜在客户", "Prospect"),
    ("active", "成交客户", "Active customer"),
    ("dormant", "沉睡客户", "Dormant"),
    ("churned", "已流失", "Churned"),
)
PRODUCT_LINE = _enum(
    "product_line", "产品线", "Product line",
    ("software", "软件", "Software"),
    ("hardware", "硬件", "Hardware"),
    ("service", "服务", "Services"),
    ("consulting", "咨询", "Consulting"),
)
DECISION_ROLE = _enum(
    "decision_role", "决策角色", "Decision role",
    ("decision_maker", "决策者", "Decision maker"),
    ("influencer", "影响者", "Influencer"),
    ("user", "使用者", "User"),
    ("gatekeeper", "把关者", "Gatekeeper"),
    ("champion", "内部支持者", "Champion"),
)
ACTIVITY_KIND = _enum(
    "activity_kind", "活动类型", "Activity type",
    ("call", "电话", "Call"),
    ("visit", "拜访", "Visit"),
    ("meeting", "会议", "Meeting"),
    ("note", "备注", "Note"),
)
TICKET_STATUS = _enum(
    "ticket_status", "工单状态", "Ticket status",
    ("open", "待处理", "Open"),
    ("in_progress", "处理中", "In progress"),
    ("resolved", "已解决", "Resolved"),
    ("closed", "已关闭", "Closed"),
)
PRIORITY = _enum(
    "priority", "优先级", "Priority",
    ("low", "低", "Low"),
    ("normal", "普通", "Normal"),
    ("high", "高", "High"),
    ("urgent", "紧急", "Urgent"),
)
ORDER_STATUS = _enum(
    "order_status", "合同状态", "Order status",
    ("draft", "草拟", "Draft"),
    ("signed", "已签约", "Signed"),
    ("fulfilled", "已履约", "Fulfilled"),
    ("cancelled", "已取消", "Cancelled"),
)
DELIVERY_STATUS = _enum(
    "delivery_status", "交付状态", "Delivery status",
    ("planned", "计划中", "Planned"),
    ("shipped", "已发货", "Shipped"),
    ("accepted", "已验收", "Accepted"),
)
INVOICE_KIND = _enum(
    "invoice_kind", "发票类型", "Invoice kind",
    ("invoice", "发票", "Invoice"),
    ("credit_note", "红字发票/贷项", "Credit note"),
)
PAYMENT_KIND = _enum(
    "payment_kind", "收款类型", "Payment kind",
    ("payment", "回款", "Payment"),
    ("refund", "退款", "Refund"),
)
PAYMENT_METHOD = _enum(
    "payment_method", "付款方式", "Payment method",
    ("bank_transfer", "银行转账", "Bank transfer"),
    ("alipay", "支付宝", "Alipay"),
    ("wechat_pay", "微信支付", "WeChat Pay"),
    ("acceptance_bill", "承兑汇票", "Acceptance bill"),
    ("cash", "现金", "Cash"),
)

ALL_ENUMS: tuple[EnumType, ...] = (
    STAGE, LOST_REASON, INDUSTRY, COMPANY_SIZE, REGION, SOURCE_CHANNEL, VALUE_TIER, INTENT,
    CUSTOMER_STATUS, PRODUCT_LINE, DECISION_ROLE, ACTIVITY_KIND, TICKET_STATUS, PRIORITY,
    ORDER_STATUS, DELIVERY_STATUS, INVOICE_KIND, PAYMENT_KIND, PAYMENT_METHOD,
)
