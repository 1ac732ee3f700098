"""Demo territory and people: regions, teams, a director, their managers and reps, with Chinese names and logins."""

from __future__ import annotations

import itertools
from collections import defaultdict

from accounts.models import Region, Team, User
from demo.planner import HISTORY_DAYS, DemoLogin, Leaf, Planner

TEAMS_PER_SCALE = 3  # at scale 1; --scale multiplies it moderately

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


class PeoplePlanner(Planner):
    """Adds the territory and the sales organisation, and names for people (colleagues and customers' contacts)."""

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

    def plan_territory(self) -> None:
        """Areas, provinces and districts (reusing codes the database has); accounts sit in the districts."""
        existing = {r.code: r for r in Region.objects.all()}
        # New regions take the company's order as REGIONS lists it (areas, each followed by its provinces and
        # districts), in steps of 10 as the accounts migration numbers existing ones.
        position = itertools.count(10, 10)
        for area_index, (code, name, name_en, provinces) in enumerate(REGIONS):
            area = existing.get(code) or Region(
                code=code, name=name, name_en=name_en, level=1, sort_order=next(position)
            )
            self.regions.append(area)
            for p_code, p_name, p_name_en, is_municipality, districts in provinces:
                p_full = f"{code}-{p_code}"
                province = existing.get(p_full) or Region(
                    code=p_full, name=p_name, name_en=p_name_en, level=2, parent=area, sort_order=next(position)
                )
                self.regions.append(province)
                for d_code, d_name, d_name_en, d_address in districts:
                    d_full = f"{p_full}-{d_code}"
                    district = existing.get(d_full) or Region(
                        code=d_full, name=d_name, name_en=d_name_en, level=3, parent=province,
                        sort_order=next(position),
                    )  # fmt: skip
                    self.regions.append(district)
                    if is_municipality:
                        leaf = Leaf(district, area_index, p_name, f"{p_name}市{d_address}")
                    else:
                        leaf = Leaf(district, area_index, d_name, f"{p_name}省{d_name}市")
                    self.leaves.append(leaf)

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
