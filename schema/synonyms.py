"""Column labels that people use for dictionary fields in their own sheets, both languages.

``FIELD_SYNONYMS["customer.name"]`` lists what a legacy sheet may call a customer's name
(公司名称, 客户名称, Account Name...). The dictionary's own labels (``Field.zh``/``Field.en``)
count without being listed here. ``addin.importing.mapping`` compares labels after folding
them like ``schema.names.name_key`` (width, case, brackets, spaces), so list each word once
in its plain form.

A key names ``entity.field`` of the dictionary, or ``entity.created_at`` /
``entity.closed_at``: the history an admin's import may carry (``schema.wire.RowHistory``),
or ``entity.verified_on``: when a source row was last verified (survivorship: the newest
verified value wins, ``schema.wire_import.VERIFIED_ON``). A test checks that every key names
one of these.
"""

from __future__ import annotations

HISTORY_FIELDS: tuple[str, ...] = ("created_at", "closed_at")  # RowHistory's dated fields

_OWNER = ("负责人", "销售", "销售员", "业务员", "客户经理", "跟进人", "所属销售", "归属人",
          "Owner", "Sales Rep", "Salesperson", "Account Owner", "Opportunity Owner")
_CREATED = ("创建时间", "创建日期", "录入时间", "录入日期", "建档日期", "Created", "Created At",
            "Created Date", "Create Date", "Date Created")

FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    # customer
    "customer.name": ("公司名称", "客户名称", "单位名称", "企业名称", "公司", "客户", "公司全称",
                      "客户全称", "单位", "Company", "Company Name", "Account Name", "Account",
                      "Customer", "Customer Name", "Organization", "Organisation"),
    "customer.uscc": ("统一社会信用代码", "信用代码", "社会信用代码", "税号", "纳税人识别号",
                      "USCC", "Credit Code", "Tax ID", "Tax Number"),
    "customer.industry": ("行业", "所属行业", "行业类别", "Industry", "Sector"),
    "customer.company_size": ("企业规模", "公司规模", "规模", "人数", "Company Size", "Size",
                              "Employees"),
    "customer.address": ("地址", "公司地址", "联系地址", "详细地址", "办公地址", "Address",
                         "Billing Address", "Street"),
    "customer.website": ("网址", "网站", "官网", "公司网址", "Website", "Web", "URL", "Homepage"),
    "customer.phone": ("总机", "公司电话", "电话", "座机", "联系电话", "Phone", "Tel",
                       "Telephone", "Main Phone", "Company Phone"),
    "customer.source_channel": ("来源", "来源渠道", "客户来源", "渠道", "Source", "Lead Source",
                                "Channel"),
    "customer.status": ("客户状态", "状态", "Status", "Account Status"),
    "customer.notes": ("备注", "说明", "Notes", "Note", "Remarks", "Comments", "Description"),
    "customer.owner": _OWNER,
    "customer.region": ("区域", "大区", "片区", "Region", "Territory"),
    "customer.created_at": _CREATED,
    "customer.verified_on": ("核实日期", "核实时间", "核对日期", "更新日期", "更新时间",
                             "最后更新", "最后更新时间", "最后更新日期", "最近更新",
                             "修改日期", "修改时间", "最后修改", "最后修改时间",
                             "Last verified", "Last Verified Date", "Verified", "Verified On",
                             "Last modified", "Last Modified Date", "Modified", "Updated",
                             "Updated At", "Last Updated", "Date Modified"),
    # contact
    "contact.customer": ("所属客户", "公司名称", "客户名称", "公司", "Company", "Account Name",
                         "Customer"),
    "contact.name": ("联系人", "联系人姓名", "姓名", "客户姓名", "联系人名称", "Contact",
                     "Contact Name", "Full Name", "Name"),
    "contact.title": ("职务", "职位", "岗位", "头衔", "Title", "Job Title", "Position"),
    "contact.mobile": ("手机", "手机号", "手机号码", "移动电话", "联系人手机", "Mobile",
                       "Mobile Phone", "Cell", "Cell Phone"),
    "contact.phone": ("座机", "办公电话", "联系人电话", "Office Phone", "Work Phone",
                      "Direct Line"),
    "contact.email": ("邮箱", "电子邮件", "电子邮箱", "邮件", "Email", "E-mail", "Mail",
                      "Email Address"),
    "contact.wechat": ("微信", "微信号", "WeChat", "Weixin", "WeChat ID"),
    "contact.owner": _OWNER,
    # opportunity
    "opportunity.name": ("商机名称", "商机", "项目名称", "项目", "机会名称", "Opportunity",
                         "Opportunity Name", "Deal", "Deal Name"),
    "opportunity.customer": ("客户", "客户名称", "公司名称", "公司", "Account Name", "Account",
                             "Company", "Customer"),
    "opportunity.stage": ("阶段", "商机阶段", "销售阶段", "Stage", "Deal Stage", "Sales Stage"),
    "opportunity.amount": ("金额", "商机金额", "预计金额", "Amount", "Deal Value", "Value"),
    "opportunity.expected_close": ("预计成交日期", "预计签约日期", "预计成交时间", "Close Date",
                                   "Expected Close", "Expected Close Date"),
    "opportunity.lost_reason": ("输单原因", "丢单原因", "Lost Reason", "Loss Reason"),
    "opportunity.owner": _OWNER,
    "opportunity.created_at": (*_CREATED, "Engage Date"),
    "opportunity.closed_at": ("成交日期", "关闭日期", "赢单日期", "结束日期", "Closed",
                              "Closed At", "Close Date Actual"),
    # order
    "order.order_no": ("合同编号", "合同号", "订单号", "订单编号", "Order No", "Order Number",
                       "Contract No", "Contract Number"),
    "order.customer": ("客户", "客户名称", "公司名称", "Customer", "Account Name", "Company"),
    "order.signed_on": ("签约日期", "签订日期", "合同日期", "下单日期", "Signed On",
                        "Contract Date", "Order Date"),
    "order.amount": ("金额", "合同金额", "订单金额", "Amount", "Order Amount", "Total"),
    "order.status": ("状态", "订单状态", "合同状态", "Status", "Order Status"),
    "order.owner": _OWNER,
    # payment and invoice
    "payment.paid_on": ("到账日期", "回款日期", "付款日期", "Paid On", "Payment Date"),
    "payment.amount": ("金额", "回款金额", "到账金额", "Amount", "Payment Amount"),
    "payment.order": ("合同编号", "合同号", "订单号", "Order", "Order No"),
    "invoice.invoice_no": ("发票号码", "发票号", "Invoice No", "Invoice Number"),
    "invoice.issued_on": ("开票日期", "Issued On", "Invoice Date"),
    "invoice.amount": ("金额", "开票金额", "发票金额", "Amount", "Invoice Amount"),
    "invoice.order": ("合同编号", "合同号", "订单号", "Order", "Order No"),
}
