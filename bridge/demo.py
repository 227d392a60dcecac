"""Seeded, realistic bilingual demo data, written through the real push engine.

A few hundred customers with valid unified social credit codes and phones, contacts,
opportunities across every stage, activities, tickets, orders, invoices and payments, owned
by sales users in two teams and two regions, spread over about 18 months. Customers and
deals carry their past as an admin's history import (``RowChange.history``: the day a
customer was created, the day a deal entered each stage), so reports by month, cycle times
and cohorts are true for the demo; everything else is dated after its customer's creation.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from stdnum.cn import uscc

from bridge.auth import User, add_user, issue_token
from bridge.db import Database
from bridge.sync.push import push
from schema.dictionary import Dictionary
from schema.enums import CLOSED_STAGES
from schema.wire import PushRequest, RowChange, RowHistory

CITIES = [("上海", "021", "east"), ("杭州", "0571", "east"), ("南京", "025", "east"),
          ("北京", "010", "north"), ("天津", "022", "north"), ("深圳", "0755", "south"),
          ("广州", "020", "south"), ("成都", "028", "southwest"), ("武汉", "027", "central")]
WORDS = ["星辰", "华信", "远航", "博创", "云帆", "启明", "恒通", "卓越", "凯达", "鼎盛", "瑞丰",
         "天成", "众联", "嘉禾", "锦程", "晨光", "新元", "弘毅", "联拓", "智远"]
TRADES = [("科技", "it"), ("制造", "manufacturing"), ("物流", "logistics"),
          ("医疗", "healthcare"), ("教育科技", "education"), ("能源", "energy"),
          ("商贸", "retail"), ("建设", "construction")]
DISTRICTS = ["浦东新区", "高新区", "朝阳区", "南山区"]
PROJECTS = ["年度采购", "系统升级", "运维服务", "扩容项目"]
TICKETS = ["系统登录异常", "发票抬头修改", "培训需求"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平"]
TITLES = ["总经理", "采购经理", "技术总监", "财务总监", "IT经理", "运营总监", "董事长助理"]

DAYS_BACK = 548  # about 18 months of history: customers created, deals opened and closed

DEAL_WITHIN = 180  # a customer's deals are opened within this many days of its creation

USERS = [  # username, display name, role, team, region
    ("admin", "系统管理员", "admin", None, None),
    ("zhang.wei", "张伟", "sales", "east-1", "east"),
    ("li.na", "李娜", "sales", "east-1", "east"),
    ("wang.lei", "王磊", "sales", "east-2", "east"),
    ("chen.jing", "陈静", "sales", "north-1", "north"),
    ("liu.yang", "刘洋", "sales", "north-1", "north"),
    ("zhao.min", "赵敏", "manager", "east-1", "east"),
    ("sun.tao", "孙涛", "manager", "north-1", "north"),
    ("hu.fang", "胡芳", "finance", None, None),
    ("guo.ming", "郭明", "support", None, "east"),
]


@dataclass
class DemoResult:
    tokens: dict[str, str]
    counts: dict[str, int]


def _uscc(rng: random.Random) -> str:
    region = rng.choice(["310000", "330100", "320100", "110000", "120000", "440300", "440100"])
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + region + "".join(rng.choice(alphabet) for _ in range(9))
    return body + str(uscc.calc_check_digit(body))


def _mobile(rng: random.Random) -> str:
    return rng.choice(["138", "139", "136", "150", "186", "177", "189"]) + \
        f"{rng.randrange(10**8):08d}"


def _landline(rng: random.Random, area: str) -> str:
    digits = 8 if len(area) == 3 else 7 + (area in ("0571", "0755"))
    number = str(rng.randint(2, 8)) + "".join(str(rng.randrange(10)) for _ in range(digits - 1))
    ext = f"转{rng.randint(100, 8999)}" if rng.random() < 0.3 else ""
    return f"{area}-{number}{ext}"


def _ins(entity: str, **values: Any) -> RowChange:
    return RowChange(op="insert", entity=entity, id=str(uuid.uuid4()),
                     values={k: v for k, v in values.items() if v is not None})


def _push(db: Database, dictionary: Dictionary, user: User, rows: list[RowChange]) -> int:
    if not rows:
        return 0
    resp = push(db, dictionary, user, PushRequest(
        idempotency_key=f"demo-{uuid.uuid4().hex}", template_version=dictionary.version,
        rows=rows), max_rows=len(rows))
    bad = [r for r in resp.results if r.status == "rejected"]
    if bad:  # demo data must be valid: fail loudly with the first reason
        e = bad[0].errors[0]
        raise RuntimeError(f"demo row rejected: {bad[0].entity} {e.field}: {e.message_en}")
    return resp.counts["applied"]


def _customer(rng: random.Random, seller: User, names: set[str], born: date) -> RowChange:
    """A customer of ``seller``'s region, created in the old system on ``born``."""
    city, area, _region = rng.choice([c for c in CITIES if c[2] == seller.region] or CITIES)
    trade, industry = rng.choice(TRADES)
    name = f"{city}{rng.choice(WORDS)}{trade}有限公司"
    while name in names:
        name = f"{city}{rng.choice(WORDS)}{rng.choice(WORDS)}{trade}有限公司"
    names.add(name)
    row = _ins(
        "customer", name=name, uscc=_uscc(rng), industry=industry,
        company_size=rng.choice(["micro", "small", "medium", "large", "xlarge"]),
        address=f"{city}市{rng.choice(DISTRICTS)}{rng.randint(1, 999)}号",
        website=f"www.{uuid.UUID(int=rng.getrandbits(128)).hex[:8]}.com.cn",
        phone=_landline(rng, area),
        source_channel=rng.choice(["website", "referral", "exhibition", "cold_call", "partner",
                                   "social"]),
        intent=rng.choice(["high", "medium", "low"]),
        status=rng.choice(["prospect", "active", "active", "dormant"]),
        product_lines=";".join(rng.sample(["software", "hardware", "service"],
                                          rng.randint(1, 2))),
        decision_chain=f"{rng.choice(TITLES)} → {rng.choice(TITLES)} → 总经理",
        shared=rng.random() < 0.2, **_scope(seller))
    # created before the working day's deals and calls (a deal may open the same day)
    row.history = RowHistory(created_at=f"{born.isoformat()} 08:{rng.choice(['00', '30'])}")
    return row


def _scope(seller: User) -> dict[str, Any]:
    """The scope fields the admin pushes for a record ``seller`` owns."""
    return {"owner": seller.username, "team": seller.team, "region": seller.region}


def _clock(rng: random.Random) -> str:
    """An office-hours time of day (team zone), ``HH:MM``."""
    return f"{rng.randint(9, 17):02d}:{rng.choice(['00', '15', '30', '45'])}"


def _day_between(rng: random.Random, first: date, last: date) -> date:
    """A day from ``first`` to ``last`` (both included; ``first`` when they cross)."""
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _contact(rng: random.Random, name: str) -> RowChange:
    host = uuid.UUID(int=rng.getrandbits(128)).hex[:6]
    return _ins("contact", customer=name, name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                title=rng.choice(TITLES), mobile=_mobile(rng),
                email=f"c{rng.randrange(10**6)}@{host}.cn", wechat=f"wx_{rng.randrange(10**7)}",
                decision_role=rng.choice(["decision_maker", "influencer", "user", "champion"]))


def _opportunity(rng: random.Random, name: str, seller: User, stages: list[str],
                 born: date, today: date) -> RowChange:
    """A deal of customer ``name`` (created on ``born``), opened within half a year of it
    and walked through the stages in order up to its current one; a won or lost deal's last
    stage is its close day, so cycle times, close months and cohorts are true."""
    path = _path(rng, rng.choice(stages), stages)
    gaps = [0] + [rng.randint(3, 40) for _ in path[1:]]  # days from one stage to the next
    latest = today - timedelta(days=1 + sum(gaps))  # opened by then, it is closed by now
    opened = _day_between(rng, born, min(born + timedelta(days=DEAL_WITHIN), latest))
    while len(path) > 1 and opened + timedelta(days=sum(gaps)) >= today:
        path, gaps = path[:-1], gaps[:-1]  # a young customer's deal has not got that far yet
    stage = path[-1]
    open_ = stage not in CLOSED_STAGES
    row = _ins(
        "opportunity", name=f"{name[:6]}{rng.choice(PROJECTS)}", customer=name, stage=stage,
        amount=rng.randrange(20, 2000) * 1000,
        product_line=rng.choice(["software", "hardware", "service", "consulting"]),
        expected_close=(opened + timedelta(days=rng.randint(30, 120))).isoformat(),
        lost_reason=rng.choice(["price", "competitor", "no_budget"]) if stage == "lost" else None,
        next_followup_date=(today + timedelta(days=rng.randint(-20, 30))).isoformat()
        if open_ else None,
        next_followup_plan="电话回访，确认方案细节" if open_ else None, **_scope(seller))
    row.history = RowHistory(stages=_stage_days(rng, path, gaps, opened))
    return row


def _path(rng: random.Random, stage: str, stages: list[str]) -> list[str]:
    """The stages a deal now in ``stage`` went through, in order (a lost deal dropped out
    after one of the open stages)."""
    open_stages = [s for s in stages if s not in CLOSED_STAGES]
    if stage == "lost":
        return [*open_stages[: rng.randint(1, len(open_stages))], "lost"]
    if stage == "won":
        return [*open_stages, "won"]
    return open_stages[: open_stages.index(stage) + 1]


def _stage_days(rng: random.Random, path: list[str], gaps: list[int],
                opened: date) -> dict[str, str]:
    """``{stage: day and time entered}`` from ``opened`` on, ``gaps`` days apart."""
    days, day = {}, opened
    for stage, gap in zip(path, gaps, strict=True):
        day += timedelta(days=gap)
        days[stage] = f"{day.isoformat()} {_clock(rng)}"
    return days  # gaps after the first are 3 days or more: never two stages at once


def _interactions(rng: random.Random, name: str, born: date,
                  today: date) -> list[RowChange]:
    rows = [_ins("activity", customer=name, kind=rng.choice(["call", "visit", "meeting", "note"]),
                 subject=rng.choice(["首次拜访", "需求沟通", "方案演示", "报价跟进"]),
                 occurred_at=f"{_day_between(rng, born, today).isoformat()} "
                             f"{rng.randint(9, 18)}:{rng.choice(['00', '30'])}")]
    if rng.random() < 0.3:
        opened = _day_between(rng, born, today - timedelta(days=1))
        rows.append(_ins("ticket", customer=name, subject=rng.choice(TICKETS),
                         priority=rng.choice(["low", "normal", "high"]),
                         status=rng.choice(["open", "resolved", "closed"]),
                         opened_on=opened.isoformat(), satisfaction=rng.randint(1, 5)))
    return rows


def _order_rows(rng: random.Random, name: str, born: date,
                today: date) -> tuple[RowChange, list[RowChange]]:
    """An order signed after the customer was created, and what follows it (invoice,
    payment, delivery, sometimes a refund)."""
    signed = _day_between(rng, born, today)
    order_no = f"HT{signed:%Y%m%d}{rng.randrange(10**5):05d}"
    amount = rng.randrange(10, 800) * 1000
    order = _ins("order", order_no=order_no, customer=name, signed_on=signed.isoformat(),
                 amount=amount, status=rng.choice(["signed", "fulfilled", "fulfilled"]),
                 product_line=rng.choice(["software", "service"]))
    later = [
        _ins("invoice", invoice_no=f"FP{rng.randrange(10**10):010d}", order=order_no,
             kind="invoice", issued_on=(signed + timedelta(days=7)).isoformat(), amount=amount),
        _ins("payment", order=order_no, kind="payment",
             paid_on=(signed + timedelta(days=30)).isoformat(), amount=amount,
             method=rng.choice(["bank_transfer", "alipay", "acceptance_bill"])),
        _ins("delivery", order=order_no, description="设备/软件交付",
             delivered_on=(signed + timedelta(days=20)).isoformat(), status="accepted"),
    ]
    if rng.random() < 0.05:
        later.append(_ins("payment", order=order_no, kind="refund",
                          paid_on=(signed + timedelta(days=60)).isoformat(),
                          amount=amount // 10, method="bank_transfer"))
    return order, later


def seed(db: Database, dictionary: Dictionary, customers: int = 300, seed_value: int = 7,
         today: date | None = None) -> DemoResult:
    """Create the demo users and data; returns each user's token (shown once). ``today``
    (default: the real one) may be earlier, not later: the store refuses a history moment
    in the future."""
    rng, today = random.Random(seed_value), today or date.today()
    tokens: dict[str, str] = {}
    users: dict[str, User] = {}
    with db.write() as conn:
        for username, name, role, team, region in USERS:
            users[username] = add_user(db, conn, username, role, team, region, name)
            tokens[username] = issue_token(db, conn, username, days=90, label="demo")
    stage_enum = dictionary.entity("opportunity").field("stage").enum
    stages = stage_enum.codes() if stage_enum else []
    counts: dict[str, int] = {}
    names: set[str] = set()
    sellers = [u for u in users.values() if u.role == "sales"]
    for seller in sellers:
        parents, deals, children, later = [], [], [], []
        for _ in range(customers // len(sellers)):
            born = today - timedelta(days=rng.randint(1, DAYS_BACK))
            cust = _customer(rng, seller, names, born)
            name = str(cust.values["name"])
            parents.append(cust)
            children += [_contact(rng, name) for _ in range(rng.randint(1, 3))]
            deals += [_opportunity(rng, name, seller, stages, born, today)
                      for _ in range(rng.randint(0, 2))]
            children += _interactions(rng, name, born, today)
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5])):
                order, after = _order_rows(rng, name, born, today)
                children.append(order)
                later += after
        # the records with a past go in as the admin's history import (only an admin's rows
        # may carry one), owned by the seller; what hangs off them as the seller
        for who, rows in ((users["admin"], parents), (users["admin"], deals),
                          (seller, children), (seller, later)):
            _push(db, dictionary, who, rows)
            for r in rows:
                counts[r.entity] = counts.get(r.entity, 0) + 1
    return DemoResult(tokens, counts)
