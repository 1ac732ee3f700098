"""A believable demo company for `manage.py seed_demo`: people, territory, customers and two years of history.

Everything is planned in memory from one `random.Random(seed)` and dates relative to one `today`, then written with
`bulk_create` in foreign-key order inside one transaction. The same seed and the same `today` give the same rows.
History follows the product's rules: every opportunity has a StageChange path from prep, a done visit on the
account shortly before each stage change, a demo or proposal before leaving `propose`, follow-ups after wins, and
`is_untouched_loss` is computed from the generated visits exactly as SPEC §4 defines it.
"""

from __future__ import annotations

import itertools
import math
import random
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, AccountYear, Competitor, Contact, Industry, InstalledBase, Region, Team, User
from pipeline.models import (
    Opportunity,
    Pipeline,
    Reassignment,
    SalesTarget,
    Stage,
    StageChange,
    StageCriterion,
    Visit,
    VisitWeekComment,
)

DEMO_PASSWORD = "salesflow"
DEMO_USERNAME_REGEX = r"^(director|manager[0-9]+|rep[0-9]+)$"
BATCH_SIZE = 1000
HISTORY_DAYS = 730  # two years of opportunities and visits

# At scale 1; --scale multiplies them (teams moderately, reference data not at all).
TEAMS_PER_SCALE = 3
ACCOUNTS_PER_SCALE = 600
OPPORTUNITIES_PER_SCALE = 2500
VISITS_PER_SCALE = 15000


class DemoDataExists(Exception):
    """The database already holds accounts or demo users; seeding would mix demo rows with them."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    name: str
    team: str
    language: str


@dataclass(frozen=True)
class DemoSummary:
    counts: dict[str, int]
    logins: list[DemoLogin]
    password: str = DEMO_PASSWORD


# ---------------------------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------------------------

# (code, name, English name, [(code, name, English name, is_municipality, [(code, name, English name, address)])])
REGIONS: list[tuple] = [
    (
        "EC",
        "华东",
        "East China",
        [
            (
                "SH",
                "上海",
                "Shanghai",
                True,
                [
                    ("PD", "浦东", "Pudong", "浦东新区"),
                    ("XH", "徐汇", "Xuhui", "徐汇区"),
                    ("MH", "闵行", "Minhang", "闵行区"),
                    ("JA", "静安", "Jing'an", "静安区"),
                ],
            ),
            (
                "JS",
                "江苏",
                "Jiangsu",
                False,
                [("NJ", "南京", "Nanjing", ""), ("SZ", "苏州", "Suzhou", ""), ("WX", "无锡", "Wuxi", "")],
            ),
            (
                "ZJ",
                "浙江",
                "Zhejiang",
                False,
                [("HZ", "杭州", "Hangzhou", ""), ("NB", "宁波", "Ningbo", ""), ("WZ", "温州", "Wenzhou", "")],
            ),
        ],
    ),
    (
        "NC",
        "华北",
        "North China",
        [
            (
                "BJ",
                "北京",
                "Beijing",
                True,
                [
                    ("CY", "朝阳", "Chaoyang", "朝阳区"),
                    ("HD", "海淀", "Haidian", "海淀区"),
                    ("DC", "东城", "Dongcheng", "东城区"),
                ],
            ),
            ("TJ", "天津", "Tianjin", True, [("BH", "滨海", "Binhai", "滨海新区"), ("HP", "和平", "Heping", "和平区")]),
            ("SD", "山东", "Shandong", False, [("JN", "济南", "Jinan", ""), ("QD", "青岛", "Qingdao", "")]),
        ],
    ),
    (
        "SC",
        "华南",
        "South China",
        [
            (
                "GD",
                "广东",
                "Guangdong",
                False,
                [
                    ("GZ", "广州", "Guangzhou", ""),
                    ("SZ", "深圳", "Shenzhen", ""),
                    ("DG", "东莞", "Dongguan", ""),
                    ("FS", "佛山", "Foshan", ""),
                ],
            ),
            ("FJ", "福建", "Fujian", False, [("FZ", "福州", "Fuzhou", ""), ("XM", "厦门", "Xiamen", "")]),
        ],
    ),
    (
        "CC",
        "华中",
        "Central China",
        [
            ("HB", "湖北", "Hubei", False, [("WH", "武汉", "Wuhan", ""), ("YC", "宜昌", "Yichang", "")]),
            ("HN", "湖南", "Hunan", False, [("CS", "长沙", "Changsha", ""), ("ZZ", "株洲", "Zhuzhou", "")]),
        ],
    ),
    (
        "SW",
        "西南",
        "Southwest China",
        [
            ("SC", "四川", "Sichuan", False, [("CD", "成都", "Chengdu", ""), ("MY", "绵阳", "Mianyang", "")]),
            ("CQ", "重庆", "Chongqing", True, [("YB", "渝北", "Yubei", "渝北区"), ("YZ", "渝中", "Yuzhong", "渝中区")]),
        ],
    ),
]

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

SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"), ("黄", "huang"),
    ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"),
    ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"), ("高", "gao"), ("罗", "luo"), ("郑", "zheng"),
    ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"),
    ("曹", "cao"), ("彭", "peng"), ("曾", "zeng"), ("萧", "xiao"), ("田", "tian"), ("董", "dong"), ("潘", "pan"),
]  # fmt: skip
GIVEN_NAMES = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"),
    ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
    ("建华", "jianhua"), ("志强", "zhiqiang"), ("海燕", "haiyan"), ("晓东", "xiaodong"), ("文博", "wenbo"),
    ("子涵", "zihan"), ("欣怡", "xinyi"), ("浩然", "haoran"), ("雨婷", "yuting"), ("俊杰", "junjie"),
    ("思远", "siyuan"), ("佳琪", "jiaqi"), ("建国", "jianguo"), ("丽娟", "lijuan"), ("宇航", "yuhang"),
    ("梦瑶", "mengyao"), ("春梅", "chunmei"), ("国庆", "guoqing"), ("晨", "chen"), ("颖", "ying"),
]  # fmt: skip
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
AMOUNT_RANGES = [(50_000, 300_000), (80_000, 600_000), (120_000, 1_200_000), (200_000, 2_000_000),
                 (400_000, 3_000_000)]  # fmt: skip

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

OPPORTUNITY_TOPICS = ["复合机集中采购", "打印管理服务（MPS）", "彩色复合机更新", "生产型印刷设备采购",
                      "文印中心外包", "分支机构设备统一采购", "文档管理系统", "年度维保合同", "扫描归档项目",
                      "宽幅打印机采购"]  # fmt: skip
_S, _L = Opportunity.Source, Opportunity.LossReason
SOURCES = [(_S.EXISTING_CUSTOMER, 24), (_S.TARGET_MARKET, 16), (_S.REFERRAL, 14), (_S.COLD_VISIT, 12),
           (_S.INBOUND, 10), (_S.WARM, 8), (_S.EVENT, 8), (_S.GROUP, 4), (_S.OTHER, 4)]  # fmt: skip
LOSS_REASONS = [(_L.PRICE, 30), (_L.RELATIONSHIP, 15), (_L.PRODUCT_FIT, 12), (_L.TIMING, 12), (_L.BUDGET, 12),
                (_L.NO_DECISION, 12), (_L.OTHER, 7)]  # fmt: skip
LOSS_NOTES = {
    "price": "对手报价低约15%，客户最终选择低价方案。",
    "relationship": "对手与客户高层关系更好。",
    "product_fit": "客户需要的装订功能我方机型不支持。",
    "timing": "客户采购计划推迟到明年。",
    "budget": "预算被削减，项目暂停。",
    "no_decision": "客户内部意见不统一，项目无限期搁置。",
    "other": "客户集团统一招标，本地无决定权。",
}
UNTOUCHED_CAUSES_NOT_ENGAGED = ["no_plan", "thought_unneeded", "noticed_late", "competitor_relationship",
                                "wrong_department", "missed_timing"]  # fmt: skip
UNTOUCHED_CAUSES_ENGAGED = ["visited_before", "rejected_not_revisited", "plan_not_executed", "no_motivation",
                            "noticed_late", "competitor_relationship"]  # fmt: skip

# Days an opportunity typically spends in each stage of the default pipeline (min, max).
DWELL_DAYS = {"prep": (2, 14), "status": (5, 25), "opportunity": (5, 25), "needs": (5, 30), "develop": (7, 30),
              "propose": (7, 40), "commit": (5, 25), "close": (2, 14)}  # fmt: skip
# How far lost opportunities got, by stage order (prep .. close).
LOST_AT_WEIGHTS = [10, 20, 18, 15, 12, 13, 8, 4]

PURPOSES = {
    "prep": ["初次拜访，了解客户文印现状", "介绍公司及产品，约见行政负责人"],
    "status": ["了解现有设备数量、使用年限和月打印量", "收集客户组织架构和采购流程信息"],
    "opportunity": ["与客户一起分析文印成本和管理问题", "确认设备故障对业务的影响"],
    "needs": ["拜访决策者，确认采购标准及优先顺序", "确认各部门的文印需求"],
    "develop": ["确认预算和采购时间表", "沟通方案范围和配置"],
    "propose": ["产品演示", "提交解决方案及报价"],
    "commit": ["商务谈判，解决合同条款问题", "确认采购日期和付款方式"],
    "close": ["签订合同", "确认订单及交付细节"],
    "implement": ["设备交付安装", "售后回访，了解使用满意度"],
}
GENERIC_PURPOSES = ["例行拜访，维护客户关系", "节日问候", "耗材使用情况回访", "介绍新机型", "了解设备租赁到期计划",
                    "了解客户新办公室搬迁计划"]  # fmt: skip
SUMMARIES = ["客户对方案总体认可，需要内部讨论", "见到了行政经理，了解了现有设备数量", "客户反馈打印成本偏高",
             "完成演示，客户对扫描归档功能很感兴趣", "客户提出价格偏高，需要调整配置", "决策者出差，改约下周",
             "客户确认了需求清单", "与IT经理讨论了安全打印方案", "客户对服务响应速度满意"]  # fmt: skip
NEXT_STEPS = ["下周提交方案", "约决策者见面", "发送报价单", "安排产品演示", "跟进合同审批", "两周后回访",
              "提供同行业案例"]  # fmt: skip
CRITERION_TEXTS = {
    "visit_purpose": ["了解客户文印现状及设备使用情况", "介绍我司解决方案，约见行政负责人"],
    "current_situation": ["现有复合机多台，使用超过5年，故障率高", "各部门分散采购打印机，耗材费用无人统计",
                          "租赁合同年底到期，正在评估供应商"],
    "problem_and_cause": ["打印成本高：设备分散、缺少统一管理", "设备老化导致故障频繁，影响办公效率",
                          "文件安全风险：打印件无人领取"],
    "buying_criteria": ["1. 总拥有成本 2. 售后响应速度 3. 安全打印功能", "1. 设备稳定性 2. 价格 3. 服务网点覆盖",
                        "1. 彩色输出质量 2. 扫描归档 3. 租赁灵活性"],
}  # fmt: skip
OVERRIDE_REASONS = [
    "客户总经理已口头确认，书面材料补充中",
    "老客户续约，经理批准跳过演示",
    "年底集中采购，时间紧，经理批准推进",
]
SATISFACTION_SCORES = [(10, 20), (9, 30), (8, 25), (7, 12), (6, 6), (5, 4), (4, 3)]
SEASONALITY = [0.6, 0.7, 1.0, 1.0, 1.0, 1.1, 0.9, 0.9, 1.0, 1.1, 1.2, 1.5]


# ---------------------------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------------------------


def has_demo_data() -> bool:
    """True when the database holds accounts or users with demo usernames; seeding would collide with them."""
    return Account.objects.exists() or User.objects.filter(username__regex=DEMO_USERNAME_REGEX).exists()


@transaction.atomic
def flush_demo_data() -> None:
    """Deletes customers, history, targets, teams and every user except superusers with non-demo usernames."""
    # Snapshots computed from the old rows would describe a company that no longer exists.
    for label in ("analytics.MatrixRun", "analytics.JobRun", "analytics.UntouchedFlag", "analytics.StaleFlag"):
        apps.get_model(label).objects.all().delete()
    VisitWeekComment.objects.all().delete()
    Reassignment.objects.all().delete()
    Visit.objects.all().delete()
    StageChange.objects.all().delete()
    Opportunity.competitors.through.objects.all().delete()
    Opportunity.objects.all().delete()
    SalesTarget.objects.all().delete()
    InstalledBase.objects.all().delete()
    AccountYear.objects.all().delete()
    Contact.objects.all().delete()
    Account.objects.update(parent=None)
    Account.objects.all().delete()
    Competitor.objects.all().delete()
    Industry.objects.all().delete()
    for level in (3, 2, 1):
        Region.objects.filter(level=level).delete()
    User.objects.filter(~Q(is_superuser=True) | Q(username__regex=DEMO_USERNAME_REGEX)).delete()
    Team.objects.all().delete()


@transaction.atomic
def seed_demo(*, scale: float = 1.0, seed: int = 1, today: date | None = None, flush: bool = False) -> DemoSummary:
    """Writes a demo company of `scale` times the base size; raises DemoDataExists (writing nothing) if the database
    already has accounts or demo users and `flush` is false. Same seed and today give the same rows."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    if flush:
        flush_demo_data()
    elif has_demo_data():
        raise DemoDataExists()
    builder = _DemoBuilder(scale=scale, seed=seed, today=today or timezone.localdate())
    builder.plan()
    builder.write()
    return builder.summary()


# ---------------------------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Leaf:
    region: Region
    area_index: int
    city: str  # the city a company name starts with
    address_prefix: str


@dataclass
class _AccountPlan:
    obj: Account
    short_name: str
    domain: str
    band: int
    contacts: list[Contact] = field(default_factory=list)
    neglected: bool = False
    won: int = 0
    lost_to: list[Competitor] = field(default_factory=list)
    done_at: list[datetime] = field(default_factory=list)


@dataclass
class _Move:
    to_index: int
    day: int
    at: datetime | None = None


class _DemoBuilder:
    def __init__(self, *, scale: float, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.today = today
        self.tz = timezone.get_default_timezone()
        self.now = datetime.combine(today, time(8, 0), tzinfo=self.tz)  # history ends yesterday; plans start today
        self.pipeline = Pipeline.objects.get(is_default=True)
        self.stages: list[Stage] = list(self.pipeline.stages.order_by("order"))
        self.stage_index = {s.code: i for i, s in enumerate(self.stages)}
        self.closing_index = next(i for i, s in enumerate(self.stages) if s.is_closing)
        self.after_sales_index = next((i for i, s in enumerate(self.stages) if s.is_after_sales), self.closing_index)
        self.manual_criteria: dict[int, list[StageCriterion]] = defaultdict(list)
        for crit in StageCriterion.objects.filter(stage__pipeline=self.pipeline, kind=StageCriterion.Kind.MANUAL):
            self.manual_criteria[crit.stage_id].append(crit)
        self.password_hash = make_password(DEMO_PASSWORD)
        self.used_names: set[str] = set()
        self.used_company_names: set[str] = set()
        self.used_emails: set[str] = set()
        self.teams: list[Team] = []
        self.team_areas: list[list[int]] = []
        self.team_reps: dict[int, list[User]] = defaultdict(list)  # by team position
        self.team_manager: list[User] = []
        self.users: list[User] = []
        self.reps: list[User] = []
        self.rep_team: dict[str, int] = {}
        self.rep_weights: list[float] = []
        self.logins: list[DemoLogin] = []
        self.regions: list[Region] = []
        self.leaves: list[_Leaf] = []
        self.industries: list[Industry] = []
        self.industry_words: list[list[str]] = []
        self.competitors: list[Competitor] = []
        self.accounts: list[_AccountPlan] = []
        self.opportunities: list[Opportunity] = []
        self.opportunity_competitors: list[tuple[Opportunity, Competitor]] = []
        self.opportunity_account: dict[int, _AccountPlan] = {}
        self.stage_changes: list[StageChange] = []
        self.visits: list[Visit] = []
        self.installed_base: list[InstalledBase] = []
        self.account_years: list[AccountYear] = []
        self.targets: list[SalesTarget] = []

    # --- helpers -------------------------------------------------------------------------------------------------

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        """A local time `day` days from today."""
        return datetime.combine(self.today + timedelta(days=day), time(hour, minute), tzinfo=self.tz)

    def work_time(self, day: int) -> datetime:
        return self.at(day, self.rng.randint(9, 17), self.rng.choice((0, 15, 30, 45)))

    def weighted(self, pairs):
        return self.rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]

    def person(self, *, unique: bool = False) -> tuple[str, str, str, str]:
        """A Chinese surname and given name with their pinyin; with `unique`, one no colleague has, when possible."""
        for _ in range(50 if unique else 1):
            surname, surname_py = self.rng.choice(SURNAMES)
            given, given_py = self.rng.choice(GIVEN_NAMES)
            if surname + given not in self.used_names:
                break
        if unique:
            self.used_names.add(surname + given)
        return surname, given, surname_py, given_py

    def email(self, local: str, domain: str) -> str:
        address = f"{local}@{domain}"
        for n in itertools.count(2):
            if address not in self.used_emails:
                break
            address = f"{local}{n}@{domain}"
        self.used_emails.add(address)
        return address

    def dwell(self, index: int) -> int:
        low, high = DWELL_DAYS.get(self.stages[index].code, (3, 20))
        return self.rng.randint(low, high)

    # --- planning ------------------------------------------------------------------------------------------------

    def plan(self) -> None:
        self.plan_territory()
        self.plan_people()
        self.plan_accounts()
        self.plan_opportunities()
        self.plan_account_visits()
        self.plan_installed_base_and_years()
        self.flag_untouched_losses()
        self.plan_targets()

    def plan_territory(self) -> None:
        existing = {r.code: r for r in Region.objects.all()}
        for area_index, (code, name, name_en, provinces) in enumerate(REGIONS):
            area = existing.get(code) or Region(code=code, name=name, name_en=name_en, level=1)
            self.regions.append(area)
            for p_code, p_name, p_name_en, is_municipality, districts in provinces:
                p_full = f"{code}-{p_code}"
                province = existing.get(p_full) or Region(
                    code=p_full, name=p_name, name_en=p_name_en, level=2, parent=area
                )
                self.regions.append(province)
                for d_code, d_name, d_name_en, d_address in districts:
                    d_full = f"{p_full}-{d_code}"
                    district = existing.get(d_full) or Region(
                        code=d_full, name=d_name, name_en=d_name_en, level=3, parent=province
                    )
                    self.regions.append(district)
                    if is_municipality:
                        leaf = _Leaf(district, area_index, p_name, f"{p_name}市{d_address}")
                    else:
                        leaf = _Leaf(district, area_index, d_name, f"{p_name}省{d_name}市")
                    self.leaves.append(leaf)
        known = {i.code: i for i in Industry.objects.all()}
        for code, name, name_en, spend, words in INDUSTRIES:
            self.industries.append(
                known.get(code) or Industry(code=code, name=name, name_en=name_en, spend_per_employee=Decimal(spend))
            )
            self.industry_words.append(words)
        rivals = {c.name: c for c in Competitor.objects.all()}
        for name, name_en, notes, _weight in COMPETITORS:
            self.competitors.append(rivals.get(name) or Competitor(name=name, name_en=name_en, notes=notes))

    def plan_people(self) -> None:
        rng = self.rng
        n_teams = max(1, round(TEAMS_PER_SCALE * self.scale))
        n_areas = len(REGIONS)
        per_area_count: dict[tuple[int, ...], int] = defaultdict(int)
        joined = self.at(-HISTORY_DAYS - 90, 9)
        for t in range(n_teams):
            areas = [a for a in range(n_areas) if a % n_teams == t] if n_teams <= n_areas else [t % n_areas]
            per_area_count[tuple(areas)] += 1
            names = "、".join(REGIONS[a][1] for a in areas)
            number = per_area_count[tuple(areas)] if n_teams > n_areas else ""
            self.teams.append(Team(name=f"{names}销售{number}组", created_at=joined))
            self.team_areas.append(areas)

        def user(username: str, role: str, team_index: int | None, language: str = "zh-hans") -> User:
            surname, given, surname_py, given_py = self.person(unique=True)
            obj = User(
                username=username,
                password=self.password_hash,
                role=role,
                first_name=given,
                last_name=surname,
                email=self.email(f"{given_py}.{surname_py}", "demo.example.com"),
                language=language,
                is_staff=role == User.Role.DIRECTOR,
                is_superuser=role == User.Role.DIRECTOR,
                date_joined=joined,
                team=self.teams[team_index] if team_index is not None else None,
            )
            self.users.append(obj)
            team_name = self.teams[team_index].name if team_index is not None else ""
            self.logins.append(DemoLogin(username, role, surname + given, team_name, language))
            return obj

        user("director", User.Role.DIRECTOR, None)
        for t in range(n_teams):
            self.team_manager.append(user(f"manager{t + 1}", User.Role.MANAGER, t))
        rep_number = 0
        for t in range(n_teams):
            for _ in range(rng.choice((4, 5))):
                rep_number += 1
                english = rep_number == 2 or rep_number == 7
                rep = user(f"rep{rep_number}", User.Role.REP, t, "en" if english else "zh-hans")
                self.reps.append(rep)
                self.team_reps[t].append(rep)
                self.rep_team[rep.username] = t
        self.rep_weights = [rng.uniform(0.7, 1.3) for _ in self.reps]

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

        def new_account(*, owner: User, leaf: _Leaf, band: int, parent: _AccountPlan | None = None) -> _AccountPlan:
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
            plan = _AccountPlan(account, short_name, domain, band)
            self.accounts.append(plan)
            return plan

        def standalone_owner() -> tuple[User, _Leaf]:
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

    def plan_contacts(self, plan: _AccountPlan) -> None:
        rng = self.rng
        roles = [Contact.BuyingRole.DECISION_MAKER if rng.random() < 0.88 else Contact.BuyingRole.INFLUENCER]
        others = [Contact.BuyingRole.INFLUENCER, Contact.BuyingRole.USER, Contact.BuyingRole.GATEKEEPER]
        roles += [rng.choice(others) for _ in range(rng.choice((1, 1, 2)))]
        for role in roles:
            self.add_contact(plan, role)

    def add_contact(self, plan: _AccountPlan, role: str) -> Contact:
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

    def pick_contact(self, plan: _AccountPlan, *, decision_maker: bool = False) -> Contact:
        if decision_maker:
            makers = [c for c in plan.contacts if c.buying_role == Contact.BuyingRole.DECISION_MAKER]
            if makers:
                return self.rng.choice(makers)
        return self.rng.choice(plan.contacts)

    def account_weight(self, plan: _AccountPlan) -> float:
        return (1 + plan.band) * (1.8 if plan.obj.is_target else 1.0)

    def plan_opportunities(self) -> None:
        rng = self.rng
        n_opportunities = max(4, round(OPPORTUNITIES_PER_SCALE * self.scale))
        prospects = {id(p): rng.random() < 0.25 for p in self.accounts}  # never buy much: few opportunities
        weights = [self.account_weight(p) * (0.1 if prospects[id(p)] else 1) for p in self.accounts]
        all_cum = list(itertools.accumulate(weights))
        recent_cum = list(
            itertools.accumulate(0 if p.neglected else w for p, w in zip(self.accounts, weights, strict=True))
        )
        for _ in range(n_opportunities):
            created_day = -rng.randint(1, HISTORY_DAYS)
            cum = recent_cum if created_day > -200 else all_cum
            plan = rng.choices(self.accounts, cum_weights=cum)[0]
            self.plan_opportunity(plan, created_day)

    def plan_opportunity(self, plan: _AccountPlan, created_day: int) -> None:
        rng = self.rng
        team = self.rep_team.get(plan.obj.owner.username, 0)
        owner = plan.obj.owner if rng.random() < 0.95 else rng.choice(self.team_reps[team])
        manager = self.team_manager[team]
        roll = rng.random()
        fate = "direct_loss" if roll < 0.07 else "stalled" if roll < 0.13 else "won" if roll < 0.52 else "lost"
        moves: list[_Move] = []
        end_day: int | None = None
        rotted = False
        if fate == "direct_loss":
            end_day = created_day + rng.randint(1, 20)
        else:
            if fate == "won":
                furthest = self.closing_index
            else:
                furthest = rng.choices(range(len(LOST_AT_WEIGHTS)), weights=LOST_AT_WEIGHTS)[0]
                furthest = min(furthest, self.closing_index if fate == "lost" else self.closing_index - 1)
            back_at = rng.randint(2, furthest) if fate != "won" and furthest >= 3 and rng.random() < 0.08 else None
            day = created_day
            for index in range(1, furthest + 1):
                day += self.dwell(index - 1)
                moves.append(_Move(index, day))
                if index == back_at:
                    day += self.dwell(index)
                    moves.append(_Move(index - 1, day))
                    day += self.dwell(index - 1)
                    moves.append(_Move(index, day))
            if fate == "won":
                end_day = day + self.dwell(self.closing_index)
                moves.append(_Move(self.after_sales_index, end_day))
            elif fate == "lost":
                rotted = self.stages[furthest].engaged and rng.random() < 0.2
                end_day = day + (rng.randint(95, 200) if rotted else rng.randint(1, self.dwell(furthest)))
        planned_close_day = end_day if end_day is not None else (moves[-1].day if moves else created_day) + 30
        moves = [m for m in moves if m.day <= -1]
        closed = end_day is not None and end_day <= -1
        status = Opportunity.Status.OPEN
        if closed:
            status = Opportunity.Status.WON if fate == "won" else Opportunity.Status.LOST

        created_at = self.work_time(created_day)
        previous_day, previous_at = created_day, created_at
        for move in moves:
            move.at = self.at(move.day, rng.randint(10, 17), rng.randint(0, 59))
        current = moves[-1].to_index if moves else 0
        furthest_index = max([0] + [m.to_index for m in moves])
        stage = self.stages[current]
        amount = self.amount(plan.band)
        if furthest_index > self.stage_index.get("needs", 3) and not any(
            c.buying_role == Contact.BuyingRole.DECISION_MAKER for c in plan.contacts
        ):
            # Passing "needs" requires a decision maker: the first contact turns out to be one.
            plan.contacts[0].buying_role = Contact.BuyingRole.DECISION_MAKER
            plan.contacts[0].title, plan.contacts[0].department = rng.choice(
                ROLE_TITLES[Contact.BuyingRole.DECISION_MAKER]
            )
        closed_at = None
        if closed:
            closed_at = moves[-1].at if status == Opportunity.Status.WON else self.work_time(end_day)
            if moves and closed_at <= moves[-1].at:
                closed_at = moves[-1].at + timedelta(hours=1)
        expected_close = self.today + timedelta(days=planned_close_day)
        if closed_at:
            expected_close = timezone.localtime(closed_at, self.tz).date()
        elif current == 0 and rng.random() < 0.5:
            expected_close = None
        # As the services leave them: a stage's default while open, 100 once won, 0 once lost.
        probability = stage.probability if stage.probability is not None else 100
        if status == Opportunity.Status.LOST:
            probability = 0
        topic = rng.choice(OPPORTUNITY_TOPICS)
        opportunity = Opportunity(
            pipeline=self.pipeline,
            stage=stage,
            account=plan.obj,
            owner=owner,
            name=f"{plan.short_name}{topic}",
            status=status,
            amount=amount,
            expected_close_date=expected_close,
            probability=probability,
            source=self.weighted(SOURCES),
            created_at=created_at,
            stage_entered_at=moves[-1].at if moves else created_at,
            closed_at=closed_at,
            furthest_stage=self.stages[furthest_index],
            version=1 + len(moves) + (status == Opportunity.Status.LOST),  # each move and the loss is one write
        )
        self.opportunities.append(opportunity)
        self.opportunity_account[id(opportunity)] = plan
        rivals = rng.sample(self.competitors, k=rng.choice((0, 0, 1, 1, 2)))
        if status == Opportunity.Status.LOST:
            opportunity.loss_reason = self.weighted(LOSS_REASONS)
            opportunity.loss_note = LOSS_NOTES[opportunity.loss_reason]
            if fate == "direct_loss" or rng.random() < 0.65:
                rival = self.weighted(list(zip(self.competitors, (c[3] for c in COMPETITORS), strict=True)))
                opportunity.lost_to = rival
                plan.lost_to.append(rival)
                if rival not in rivals:
                    rivals.append(rival)
        elif status == Opportunity.Status.WON:
            plan.won += 1
        self.opportunity_competitors += [(opportunity, c) for c in rivals]

        # History: creation, then every move with a done visit on the account shortly before it.
        self.stage_changes.append(
            StageChange(opportunity=opportunity, from_stage=None, to_stage=self.stages[0], changed_at=created_at,
                        changed_by=owner)
        )  # fmt: skip
        from_index = 0
        for move in moves:
            forward = move.to_index > from_index
            overridden = forward and rng.random() < 0.03
            self.stage_changes.append(
                StageChange(
                    opportunity=opportunity,
                    from_stage=self.stages[from_index],
                    to_stage=self.stages[move.to_index],
                    changed_at=move.at,
                    changed_by=manager if overridden else owner,
                    override_reason=rng.choice(OVERRIDE_REASONS) if overridden else "",
                )
            )
            self.plan_visit_before_move(plan, opportunity, owner, from_index, move, previous_day, previous_at)
            previous_day, previous_at = move.day, move.at
            from_index = move.to_index
        self.fill_criteria(opportunity, furthest_index, current, status)
        if status == Opportunity.Status.WON:
            self.plan_after_sales_visits(plan, opportunity, owner, end_day)
        elif status == Opportunity.Status.OPEN:
            self.plan_next_visit(plan, opportunity, owner, previous_day, stalled=fate == "stalled")

    def amount(self, band: int) -> Decimal:
        low, high = AMOUNT_RANGES[band]
        value = math.exp(self.rng.uniform(math.log(low), math.log(high)))
        return Decimal(round(value / 1000) * 1000)

    def fill_criteria(self, opportunity: Opportunity, furthest: int, current: int, status: str) -> None:
        rng = self.rng
        values: dict[str, object] = {}
        for index, stage in enumerate(self.stages):
            passed = index < furthest
            if not passed and not (index == current and status == Opportunity.Status.OPEN):
                continue
            for crit in self.manual_criteria[stage.id]:
                if not passed and rng.random() < 0.6:
                    continue  # the stage the opportunity is in is partly filled in
                if crit.input_type == StageCriterion.InputType.CHECKBOX:
                    values[crit.code] = True
                elif crit.input_type == StageCriterion.InputType.DATE:
                    values[crit.code] = (opportunity.expected_close_date or self.today).isoformat()
                else:
                    values[crit.code] = rng.choice(CRITERION_TEXTS.get(crit.code, ["已与客户确认"]))
        opportunity.criteria_values = values

    def add_visit(
        self,
        plan: _AccountPlan,
        *,
        owner: User,
        kind: str,
        status: str,
        planned_at: datetime,
        done_at: datetime | None = None,
        created_at: datetime | None = None,
        opportunity: Opportunity | None = None,
        stage: Stage | None = None,
        contact: Contact | None = None,
        purpose: str = "",
        satisfaction: int | None = None,
    ) -> Visit:
        rng = self.rng
        done = status == Visit.Status.DONE
        created_at = created_at or min(planned_at, self.now) - timedelta(days=rng.randint(1, 7))
        if opportunity is not None:
            created_at = max(created_at, opportunity.created_at)
        visit = Visit(
            account=plan.obj,
            contact=contact or self.pick_contact(plan),
            opportunity=opportunity,
            owner=owner,
            kind=kind,
            status=status,
            planned_at=planned_at,
            done_at=done_at if done else None,
            purpose=purpose or rng.choice(GENERIC_PURPOSES),
            summary=rng.choice(SUMMARIES) if done else "",
            next_step=rng.choice(NEXT_STEPS) if done and rng.random() < 0.7 else "",
            satisfaction=satisfaction if done else None,
            stage_when_done=stage if done else None,
            created_at=created_at,
        )
        self.visits.append(visit)
        if done:
            plan.done_at.append(done_at)
        return visit

    def plan_visit_before_move(
        self,
        plan: _AccountPlan,
        opportunity: Opportunity,
        owner: User,
        from_index: int,
        move: _Move,
        previous_day: int,
        previous_at: datetime,
    ) -> None:
        """A done visit after the previous change and before this one (same day: an earlier hour)."""
        rng = self.rng
        day = move.day - rng.randint(0, min(3, move.day - previous_day - 1))
        if day == move.day:
            done_at = self.at(day, rng.randint(9, move.at.hour - 1), rng.choice((0, 15, 30, 45)))
        else:
            done_at = self.work_time(day)
        from_code = self.stages[from_index].code
        if from_code == "propose" and move.to_index > from_index:
            kind = rng.choice((Visit.Kind.DEMO, Visit.Kind.PROPOSAL))
        elif move.to_index < from_index:
            kind = Visit.Kind.PHONE
        elif from_index == 0:
            kind = Visit.Kind.VISIT
        else:
            kind = self.weighted([(Visit.Kind.VISIT, 78), (Visit.Kind.PHONE, 22)])
        created_at = max(previous_at + timedelta(minutes=5), done_at - timedelta(days=rng.randint(1, 7)))
        self.add_visit(
            plan,
            owner=owner,
            kind=kind,
            status=Visit.Status.DONE,
            planned_at=done_at.replace(minute=0),
            done_at=done_at,
            created_at=min(created_at, done_at),
            opportunity=opportunity,
            stage=self.stages[from_index],
            contact=self.pick_contact(plan, decision_maker=from_index >= self.stage_index.get("propose", 5)),
            purpose=rng.choice(PURPOSES.get(from_code, GENERIC_PURPOSES)),
        )

    def plan_after_sales_visits(self, plan: _AccountPlan, opportunity: Opportunity, owner: User, won_day: int) -> None:
        """Delivery a few days after the win, then follow-ups at SALESFLOW_FOLLOW_UP_DAYS; past ones mostly done."""
        rng = self.rng
        implement = self.stages[self.after_sales_index]
        visits = [(Visit.Kind.DELIVERY, won_day + rng.randint(2, 6), PURPOSES["implement"][0])]
        visits += [
            (Visit.Kind.FOLLOW_UP, won_day + d, PURPOSES["implement"][1]) for d in settings.SALESFLOW_FOLLOW_UP_DAYS
        ]
        delivered = False
        for kind, day, purpose in visits:
            when = self.work_time(day)
            if day >= 0:
                status = Visit.Status.PLANNED
            elif kind == Visit.Kind.DELIVERY or rng.random() < 0.9:
                status = Visit.Status.DONE
            else:
                status = Visit.Status.PLANNED if day >= -14 else Visit.Status.CANCELLED
            satisfaction = self.weighted(SATISFACTION_SCORES) if kind == Visit.Kind.FOLLOW_UP else None
            self.add_visit(
                plan,
                owner=owner,
                kind=kind,
                status=status,
                planned_at=when,
                done_at=when,
                created_at=opportunity.closed_at,
                opportunity=opportunity,
                stage=implement,
                purpose=purpose,
                satisfaction=satisfaction,
            )
            delivered |= kind == Visit.Kind.DELIVERY and status == Visit.Status.DONE
        if delivered:
            opportunity.criteria_values["delivered_installed"] = True

    def plan_next_visit(
        self, plan: _AccountPlan, opportunity: Opportunity, owner: User, last_day: int, *, stalled: bool
    ) -> None:
        """The next step of an open opportunity: usually planned ahead, sometimes overdue; stalled ones get none."""
        rng = self.rng
        code = opportunity.stage.code
        if stalled:
            if last_day < -2 and rng.random() < 0.4:
                day = rng.randint(last_day + 1, -1)
                self.add_visit(plan, owner=owner, kind=Visit.Kind.VISIT, status=Visit.Status.CANCELLED,
                               planned_at=self.work_time(day), opportunity=opportunity,
                               purpose=rng.choice(PURPOSES.get(code, GENERIC_PURPOSES)))  # fmt: skip
            return
        if rng.random() > 0.85:
            return
        overdue = rng.random() < 0.2 and last_day < -2
        day = rng.randint(max(last_day + 1, -10), -1) if overdue else rng.randint(0, 14)
        when = self.work_time(day)
        kind = Visit.Kind.DEMO if code == "propose" and rng.random() < 0.5 else Visit.Kind.VISIT
        self.add_visit(plan, owner=owner, kind=kind, status=Visit.Status.PLANNED, planned_at=when,
                       created_at=min(when, self.now) - timedelta(days=rng.randint(0, 5), hours=1),
                       opportunity=opportunity, purpose=rng.choice(PURPOSES.get(code, GENERIC_PURPOSES)))  # fmt: skip

    def plan_account_visits(self) -> None:
        """Visits not tied to an opportunity (relationship, consumables, greetings) to reach the visit total."""
        rng = self.rng
        target_total = round(VISITS_PER_SCALE * self.scale)
        n_visits = max(target_total - len(self.visits), round(len(self.accounts) * 1.5))
        weights = [self.account_weight(p) * (1.7 if p.obj.is_target else 1) for p in self.accounts]
        cum = list(itertools.accumulate(weights))
        kinds = [(Visit.Kind.VISIT, 55), (Visit.Kind.PHONE, 25), (Visit.Kind.EMAIL, 8), (Visit.Kind.FOLLOW_UP, 5),
                 (Visit.Kind.DEMO, 3), (Visit.Kind.PROPOSAL, 2), (Visit.Kind.OTHER, 2)]  # fmt: skip
        for _ in range(n_visits):
            plan = rng.choices(self.accounts, cum_weights=cum)[0]
            day = rng.randint(-HISTORY_DAYS, 21)
            if plan.neglected and -130 <= day <= 0:
                day = rng.randint(-HISTORY_DAYS, -131)
            team = self.account_team_index(plan)
            owner = self.team_manager[team] if rng.random() < 0.08 else plan.obj.owner
            when = self.work_time(day)
            if day >= 0:
                status = Visit.Status.PLANNED
            elif day >= -14 and rng.random() < 0.15:
                status = Visit.Status.PLANNED  # overdue
            elif rng.random() < 0.08:
                status = Visit.Status.CANCELLED
            else:
                status = Visit.Status.DONE
            kind = self.weighted(kinds)
            satisfaction = self.weighted(SATISFACTION_SCORES) if kind == Visit.Kind.FOLLOW_UP else None
            self.add_visit(plan, owner=owner, kind=kind, status=status, planned_at=when, done_at=when,
                           satisfaction=satisfaction)  # fmt: skip

    def account_team_index(self, plan: _AccountPlan) -> int:
        return self.rep_team.get(plan.obj.owner.username, 0)

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
                potential = (
                    Decimal(round(base_potential * (1.05 if y == year else 1) / 1000) * 1000) if explicit else None
                )
                self.account_years.append(
                    AccountYear(account=plan.obj, year=y, other_revenue=Decimal(revenue), potential_value=potential)
                )

    def flag_untouched_losses(self) -> None:
        """SPEC §4 from the planned rows: lost to a competitor, and never engaged or no done visit in the lookback."""
        lookback = timedelta(days=settings.SALESFLOW_UNTOUCHED_LOOKBACK_DAYS)
        for plan in self.accounts:
            plan.done_at.sort()
        for opportunity in self.opportunities:
            if opportunity.status != Opportunity.Status.LOST or opportunity.lost_to is None:
                continue
            done = self.opportunity_account[id(opportunity)].done_at
            closed = opportunity.closed_at
            visited = bisect_right(done, closed) > bisect_left(done, closed - lookback)
            if not opportunity.furthest_stage.engaged or not visited:
                opportunity.is_untouched_loss = True
                causes = (
                    UNTOUCHED_CAUSES_ENGAGED if opportunity.furthest_stage.engaged else UNTOUCHED_CAUSES_NOT_ENGAGED
                )
                opportunity.untouched_cause = self.rng.choice(causes)

    def plan_targets(self) -> None:
        """Month, quarter and year targets for every rep and team, last year and this, near what they win."""
        rng = self.rng
        won_by_rep: dict[str, Decimal] = defaultdict(Decimal)
        for opportunity in self.opportunities:
            if opportunity.status == Opportunity.Status.WON:
                won_by_rep[opportunity.owner.username] += opportunity.amount
        team_totals: dict[tuple[int, str, date], Decimal] = defaultdict(Decimal)
        for rep in self.reps:
            yearly_won = float(won_by_rep[rep.username]) / (HISTORY_DAYS / 365)
            ambition = rng.uniform(0.85, 1.35)
            for year in (self.today.year - 1, self.today.year):
                annual = max(500_000, yearly_won * ambition * (1.1 if year == self.today.year else 1.0))
                factors = [s * rng.uniform(0.9, 1.1) for s in SEASONALITY]
                months = [Decimal(round(annual * f / sum(factors) / 1000) * 1000) for f in factors]
                periods = [(SalesTarget.PeriodType.MONTH, date(year, m + 1, 1), months[m]) for m in range(12)]
                periods += [(SalesTarget.PeriodType.QUARTER, date(year, q * 3 + 1, 1), sum(months[q * 3 : q * 3 + 3]))
                            for q in range(4)]  # fmt: skip
                periods.append((SalesTarget.PeriodType.YEAR, date(year, 1, 1), sum(months)))
                for period_type, start, amount in periods:
                    self.targets.append(
                        SalesTarget(owner_user=rep, period_type=period_type, period_start=start, amount=amount)
                    )
                    team_totals[(self.rep_team[rep.username], period_type, start)] += amount
        for (team, period_type, start), amount in team_totals.items():
            self.targets.append(
                SalesTarget(owner_team=self.teams[team], period_type=period_type, period_start=start, amount=amount)
            )

    # --- writing -------------------------------------------------------------------------------------------------

    def write(self) -> None:
        def create(model, objs) -> None:
            model.objects.bulk_create([o for o in objs if o.pk is None], batch_size=BATCH_SIZE)

        create(Team, self.teams)
        create(User, self.users)
        for team, manager in zip(self.teams, self.team_manager, strict=True):
            team.manager = manager
        Team.objects.bulk_update(self.teams, ["manager"], batch_size=BATCH_SIZE)
        for level in (1, 2, 3):
            create(Region, [r for r in self.regions if r.level == level])
        create(Industry, self.industries)
        create(Competitor, self.competitors)
        create(Account, [p.obj for p in self.accounts if p.obj.parent is None])
        create(Account, [p.obj for p in self.accounts if p.obj.parent is not None])
        create(Contact, [c for p in self.accounts for c in p.contacts])
        create(InstalledBase, self.installed_base)
        create(AccountYear, self.account_years)
        create(Opportunity, self.opportunities)
        through = Opportunity.competitors.through
        create(through, [through(opportunity=o, competitor=c) for o, c in self.opportunity_competitors])
        create(StageChange, self.stage_changes)
        create(Visit, self.visits)
        create(SalesTarget, self.targets)

    def summary(self) -> DemoSummary:
        def count(items, **where) -> int:
            return sum(all(getattr(i, k) == v for k, v in where.items()) for i in items)

        counts = {
            "users": len(self.users),
            "teams": len(self.teams),
            "regions": len(self.regions),
            "industries": len(self.industries),
            "competitors": len(self.competitors),
            "accounts": len(self.accounts),
            "target_accounts": sum(p.obj.is_target for p in self.accounts),
            "contacts": sum(len(p.contacts) for p in self.accounts),
            "installed_base": len(self.installed_base),
            "account_years": len(self.account_years),
            "opportunities": len(self.opportunities),
            "open": count(self.opportunities, status=Opportunity.Status.OPEN),
            "won": count(self.opportunities, status=Opportunity.Status.WON),
            "lost": count(self.opportunities, status=Opportunity.Status.LOST),
            "untouched_losses": count(self.opportunities, is_untouched_loss=True),
            "stage_changes": len(self.stage_changes),
            "visits": len(self.visits),
            "visits_done": count(self.visits, status=Visit.Status.DONE),
            "visits_planned": count(self.visits, status=Visit.Status.PLANNED),
            "visits_cancelled": count(self.visits, status=Visit.Status.CANCELLED),
            "targets": len(self.targets),
        }
        return DemoSummary(counts=counts, logins=self.logins)
