"""Demo customers: industries, competitors, accounts (headquarters with branches), contacts, installed base and
account years."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

from accounts.models import Account, AccountYear, Competitor, Contact, Industry, InstalledBase, User
from demo.people import PeoplePlanner
from demo.planner import HISTORY_DAYS, AccountPlan, Leaf

ACCOUNTS_PER_SCALE = 600  # at scale 1; --scale multiplies it (reference data not at all)

# (code, name, English name, spend per employee in CNY/year, words for company names)
INDUSTRIES: list[tuple[str, str, str, int, list[str]]] = [
    ("manufacturing", "制造业", "Manufacturing", 800, ["精密机械", "汽车零部件", "电子科技", "新材料", "模具"]),
    ("finance", "金融保险", "Finance & insurance", 1500, ["投资管理", "融资租赁", "保险代理", "资产管理"]),
    ("healthcare", "医疗健康", "Healthcare", 1200, ["医疗器械", "生物科技", "医药", "健康管理"]),
    ("education", "教育培训", "Education", 600, ["教育科技", "文化传播", "职业培训"]),
    ("retail", "零售商贸", "Retail & trade", 400, ["商贸", "百货", "连锁超市", "电子商务"]),
    ("logistics", "物流运输", "Logistics", 500, ["物流", "供应链管理", "国际货运", "仓储服务"]),
    ("public", "公共事业", "Public sector & utilities", 700, ["城市建设投资", "水务", "公共交通", "环境工程"]),
    ("it", "信息技术", "Information technology", 1000, ["信息技术", "软件", "网络科技", "数据服务"]),
    ("construction", "建筑地产", "Construction & real estate", 450, ["建筑工程", "置业", "装饰工程", "建设"]),
    ("energy", "能源化工", "Energy & chemicals", 900, ["能源", "化工", "新能源科技", "燃气"]),
]

# (name, English name, notes, market-share weight)
COMPETITORS: list[tuple[str, str, str, int]] = [
    ("佳影办公", "Jiaying Office", "价格激进，渠道覆盖广。", 35),
    ("华印科技", "Huayin Technology", "国产品牌，政府和国企项目多。", 30),
    ("东芯影像", "Dongxin Imaging", "彩色机型强，服务网点少。", 20),
    ("瑞普数码", "Ruipu Digital", "生产型印刷设备为主。", 15),
]

PRODUCTS = ["黑白复合机", "彩色复合机", "生产型数码印刷机", "宽幅工程打印机", "桌面打印机"]

BRANDS = [
    ("恒远", "hengyuan"), ("华信", "huaxin"), ("鼎盛", "dingsheng"), ("金桥", "jinqiao"), ("瑞丰", "ruifeng"),
    ("远航", "yuanhang"), ("天成", "tiancheng"), ("宏达", "hongda"), ("盛世", "shengshi"), ("安泰", "antai"),
    ("博远", "boyuan"), ("嘉禾", "jiahe"), ("中联", "zhonglian"), ("永新", "yongxin"), ("海川", "haichuan"),
    ("明德", "mingde"), ("同创", "tongchuang"), ("汇通", "huitong"), ("德胜", "desheng"), ("凯越", "kaiyue"),
    ("信达", "xinda"), ("万和", "wanhe"), ("协力", "xieli"), ("龙腾", "longteng"), ("星辰", "xingchen"),
    ("启航", "qihang"), ("光华", "guanghua"), ("云帆", "yunfan"), ("九州", "jiuzhou"), ("华美", "huamei"),
    ("金鼎", "jinding"), ("志诚", "zhicheng"), ("卓越", "zhuoyue"), ("和泰", "hetai"), ("振华", "zhenhua"),
    ("立信", "lixin"), ("天海", "tianhai"), ("锦程", "jincheng"), ("百川", "baichuan"), ("弘毅", "hongyi"),
    ("润泽", "runze"), ("长青", "changqing"), ("鑫源", "xinyuan"), ("华瑞", "huarui"), ("东升", "dongsheng"),
    ("新宇", "xinyu"), ("正源", "zhengyuan"), ("泰和", "taihe"), ("广达", "guangda"), ("方圆", "fangyuan"),
    ("恒通", "hengtong"), ("聚丰", "jufeng"), ("宝利", "baoli"), ("创新", "chuangxin"), ("蓝海", "lanhai"),
    ("银河", "yinhe"), ("晨光", "chenguang"), ("雅居", "yaju"), ("益康", "yikang"), ("嘉信", "jiaxin"),
    ("南洋", "nanyang"), ("北辰", "beichen"), ("中科", "zhongke"), ("海纳", "haina"), ("精工", "jinggong"),
    ("立达", "lida"), ("诚信", "chengxin"), ("德润", "derun"), ("华泰", "huatai"), ("丰源", "fengyuan"),
    ("瑞祥", "ruixiang"), ("兴业", "xingye"), ("通达", "tongda"), ("华港", "huagang"), ("众合", "zhonghe"),
    ("君安", "junan"), ("宏图", "hongtu"), ("汇丰源", "huifengyuan"), ("奥星", "aoxing"), ("利民", "limin"),
]  # fmt: skip
ROADS = ["人民路", "中山路", "解放路", "建设路", "科技路", "世纪大道", "长江路", "黄河路", "和平路", "新华路",
         "迎宾大道", "高新大道", "创业路", "工业园路", "滨江大道", "金融街", "学府路", "东风路"]  # fmt: skip

# (size range, weight, probability of being a target account)
SIZE_BANDS = [((1, 49), 30, 0.12), ((50, 99), 22, 0.22), ((100, 299), 25, 0.35), ((300, 999), 15, 0.5),
              ((1000, 20000), 8, 0.65)]  # fmt: skip

ROLE_TITLES = {
    Contact.BuyingRole.DECISION_MAKER: [
        ("总经理", "总经理办公室"), ("副总经理", "总经理办公室"), ("采购总监", "采购部"), ("CIO", "信息技术部"),
        ("行政总监", "行政部"), ("财务总监", "财务部"),
    ],
    Contact.BuyingRole.INFLUENCER: [("IT经理", "信息技术部"), ("行政经理", "行政部"), ("财务经理", "财务部"),
                                    ("采购经理", "采购部")],
    Contact.BuyingRole.USER: [("行政专员", "行政部"), ("IT工程师", "信息技术部"), ("文员", "综合办公室"),
                              ("设计师", "设计部")],
    Contact.BuyingRole.GATEKEEPER: [("前台", "行政部"), ("总经理助理", "总经理办公室"), ("采购专员", "采购部")],
}  # fmt: skip


class AccountPlanner(PeoplePlanner):
    """Adds the market (industries, competitors) and the customers: accounts, their contacts and what they own."""

    def plan_market(self) -> None:
        """Industries and competitors, reusing the ones the database already has (by code, by name)."""
        known = {i.code: i for i in Industry.objects.all()}
        for code, name, name_en, spend, words in INDUSTRIES:
            self.industries.append(
                known.get(code) or Industry(code=code, name=name, name_en=name_en, spend_per_employee=Decimal(spend))
            )
            self.industry_words.append(words)
        rivals = {c.name: c for c in Competitor.objects.all()}
        for name, name_en, notes, _weight in COMPETITORS:
            self.competitors.append(rivals.get(name) or Competitor(name=name, name_en=name_en, notes=notes))

    def plan_accounts(self) -> None:
        rng = self.rng
        n_accounts = max(4, round(ACCOUNTS_PER_SCALE * self.scale))
        n_hq = max(1, round(n_accounts * 0.04))
        branch_counts = [rng.randint(1, 3) for _ in range(n_hq)]
        while n_hq + sum(branch_counts) > n_accounts // 2:
            branch_counts[branch_counts.index(max(branch_counts))] -= 1
        n_standalone = n_accounts - n_hq - sum(branch_counts)
        area_leaves = defaultdict(list)
        for leaf in self.leaves:
            area_leaves[leaf.area_index].append(leaf)
        area_teams = defaultdict(list)
        for t, areas in enumerate(self.team_areas):
            for a in areas:
                area_teams[a].append(t)

        def pick_band(minimum: int = 0) -> int:
            bands = list(range(minimum, len(SIZE_BANDS)))
            return rng.choices(bands, weights=[SIZE_BANDS[b][1] for b in bands])[0]

        def employees(band: int) -> int:
            low, high = SIZE_BANDS[band][0]
            if band == len(SIZE_BANDS) - 1:
                return int(math.exp(rng.uniform(math.log(low), math.log(high))))
            return rng.randint(low, high)

        def new_account(*, owner: User, leaf: Leaf, band: int, parent: AccountPlan | None = None) -> AccountPlan:
            industry_index = self.industries.index(parent.obj.industry) if parent else rng.randrange(10)
            count = employees(band)
            if parent:
                count = max(10, int(parent.obj.employee_count * rng.uniform(0.05, 0.3)))
                band = next(i for i, b in enumerate(SIZE_BANDS) if b[0][0] <= count <= b[0][1])
                short_name = f"{parent.short_name}（{leaf.city}）"
                name = f"{parent.obj.name}{leaf.city}分公司"
                domain = parent.domain
            else:
                for _ in range(30):
                    brand, brand_py = rng.choice(BRANDS)
                    short_name = brand + rng.choice(self.industry_words[industry_index])
                    suffixes = [("有限公司", 70), ("股份有限公司", 20), ("集团有限公司", 10 if band >= 3 else 0)]
                    name = f"{leaf.city}{short_name}{self.weighted(suffixes)}"
                    if name not in self.used_company_names:
                        break
                domain = f"{brand_py}.example.cn"
            self.used_company_names.add(name)
            is_target = rng.random() < SIZE_BANDS[band][2]
            target_since = None
            if is_target:
                if rng.random() < 0.25:
                    start = date(self.today.year, 1, 1)
                    target_since = start + timedelta(days=rng.randint(0, (self.today - start).days))
                else:
                    target_since = self.today - timedelta(days=rng.randint(self.today.timetuple().tm_yday, 700))
            account = Account(
                name=name,
                industry=self.industries[industry_index],
                employee_count=count,
                region=leaf.region,
                address=f"{leaf.address_prefix}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
                owner=owner,
                is_target=is_target,
                target_since=target_since,
                parent=parent.obj if parent else None,
                created_at=self.work_time(-HISTORY_DAYS - rng.randint(60, 1500)),
            )
            plan = AccountPlan(account, short_name, domain, band)
            self.accounts.append(plan)
            return plan

        def standalone_owner() -> tuple[User, Leaf]:
            rep = rng.choices(self.reps, weights=self.rep_weights)[0]
            areas = self.team_areas[self.rep_team[rep.username]]
            return rep, rng.choice([leaf for a in areas for leaf in area_leaves[a]])

        for branches in branch_counts:
            owner, leaf = standalone_owner()
            hq = new_account(owner=owner, leaf=leaf, band=pick_band(minimum=3))
            hq.obj.is_headquarters = True
            for _ in range(branches):
                branch_leaf = rng.choice([x for x in self.leaves if x.city != leaf.city])
                team = rng.choice(area_teams[branch_leaf.area_index])
                new_account(owner=rng.choice(self.team_reps[team]), leaf=branch_leaf, band=0, parent=hq)
        for _ in range(n_standalone):
            owner, leaf = standalone_owner()
            new_account(owner=owner, leaf=leaf, band=pick_band())

        targets = [a for a in self.accounts if a.obj.is_target]
        for plan in rng.sample(targets, k=round(len(targets) * 0.12)):
            plan.neglected = True  # no visit for months: the untouched-target list has something to show
        for plan in self.accounts:
            self.plan_contacts(plan)

    def plan_contacts(self, plan: AccountPlan) -> None:
        rng = self.rng
        roles = [Contact.BuyingRole.DECISION_MAKER if rng.random() < 0.88 else Contact.BuyingRole.INFLUENCER]
        others = [Contact.BuyingRole.INFLUENCER, Contact.BuyingRole.USER, Contact.BuyingRole.GATEKEEPER]
        roles += [rng.choice(others) for _ in range(rng.choice((1, 1, 2)))]
        for role in roles:
            self.add_contact(plan, role)

    def add_contact(self, plan: AccountPlan, role: str) -> Contact:
        rng = self.rng
        surname, given, surname_py, given_py = self.person()
        title, department = rng.choice(ROLE_TITLES[role])
        birthday = None
        if rng.random() < 0.6:
            birthday = date(rng.randint(1965, 1998), rng.randint(1, 12), rng.randint(1, 28))
        contact = Contact(
            account=plan.obj,
            name=surname + given,
            title=title,
            department=department,
            phone=f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
            email=self.email(f"{given_py}.{surname_py}", plan.domain),
            buying_role=role,
            communication_style=rng.choice(Contact.CommunicationStyle.values),
            birthday=birthday,
            created_at=plan.obj.created_at + timedelta(days=rng.randint(0, 30)),
        )
        plan.contacts.append(contact)
        return contact

    def pick_contact(self, plan: AccountPlan, *, decision_maker: bool = False) -> Contact:
        if decision_maker:
            makers = [c for c in plan.contacts if c.buying_role == Contact.BuyingRole.DECISION_MAKER]
            if makers:
                return self.rng.choice(makers)
        return self.rng.choice(plan.contacts)

    def account_weight(self, plan: AccountPlan) -> float:
        return (1 + plan.band) * (1.8 if plan.obj.is_target else 1.0)

    def plan_installed_base_and_years(self) -> None:
        """Our and competitors' machines at each account (all four customer types occur) and two account years."""
        rng = self.rng
        types = []
        for plan in self.accounts:
            kind = self.weighted([("ours", 25), ("competitor", 30), ("mixed", 15), ("none", 30)])
            if plan.won and kind in ("none", "competitor") and rng.random() < 0.5:
                kind = "ours" if kind == "none" else "mixed"
            if plan.lost_to and kind in ("none", "ours") and rng.random() < 0.7:
                kind = "competitor" if kind == "none" else "mixed"
            types.append(kind)
        for needed in ("ours", "competitor", "mixed", "none"):
            if needed not in types:
                types[types.index(Counter(types).most_common(1)[0][0])] = needed
        year = self.today.year
        for plan, kind in zip(self.accounts, types, strict=True):
            employees = plan.obj.employee_count
            our_units = 0
            if kind in ("ours", "mixed"):
                for product in rng.sample(PRODUCTS[:3], k=rng.choice((1, 1, 2))):
                    units = max(1, min(200, round(employees / rng.uniform(40, 150))))
                    our_units += units
                    self.installed_base.append(
                        InstalledBase(account=plan.obj, is_ours=True, product=product, units=units,
                                      year=year - rng.randint(0, 6))
                    )  # fmt: skip
            if kind in ("competitor", "mixed"):
                rivals = plan.lost_to[-1:]
                rivals += [c for c in rng.sample(self.competitors, k=rng.choice((1, 1, 2))) if c not in rivals]
                for rival in rivals[:2]:
                    self.installed_base.append(
                        InstalledBase(account=plan.obj, competitor=rival, product=rng.choice(PRODUCTS[:3]),
                                      units=max(1, min(200, round(employees / rng.uniform(40, 150)))),
                                      year=year - rng.randint(0, 8))
                    )  # fmt: skip
            explicit = rng.random() < 0.15
            if not our_units and not explicit:
                continue
            spend = self.industries.index(plan.obj.industry)
            base_potential = employees * INDUSTRIES[spend][3] * rng.uniform(0.8, 2.5)
            elapsed = (self.today - date(year, 1, 1)).days / 365
            for y, share in ((year - 1, 1.0), (year, elapsed)):
                revenue = round(our_units * rng.uniform(800, 3000) * share / 100) * 100
                # An explicit estimate of the whole wallet is never below what the account already buys from us.
                potential = (
                    Decimal(max(round(base_potential * (1.05 if y == year else 1) / 1000) * 1000, revenue))
                    if explicit
                    else None
                )
                self.account_years.append(
                    AccountYear(account=plan.obj, year=y, other_revenue=Decimal(revenue), potential_value=potential)
                )
