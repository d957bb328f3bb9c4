"""A deterministic, believable population of Jiaozuo (焦作) for the demo agencies.

People get Chinese names, resident ID numbers with valid check digits whose
birth dates and region codes agree with stdnum's region table, and live in
households (head, spouse, children). Marriage registrations follow the
households; some single heads are divorced from each other. Organisations get
unified social credit codes with valid check digits.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from stdnum.cn import ric, uscc

__all__ = [
    "REGIONS",
    "Household",
    "Marriage",
    "Organisation",
    "Person",
    "Population",
    "Region",
    "date_between",
    "generate_population",
    "seeded_random",
]


@dataclass(frozen=True, slots=True)
class Region:
    """A county-level division of Jiaozuo and the first birth year stdnum accepts for it."""

    code: str
    name: str
    first_year: int
    streets: tuple[str, ...]


REGIONS: tuple[Region, ...] = (
    Region("410802", "解放区", 1983, ("解放中路", "民主南路", "人民路", "焦东路")),
    Region("410803", "中站区", 1983, ("冯封路", "站前路", "新园路")),
    Region("410804", "马村区", 1983, ("待王大街", "马村大道", "九里山路")),
    Region("410811", "山阳区", 1983, ("山阳路", "塔南路", "丰收路", "迎宾路")),
    Region("410821", "修武县", 1983, ("云台大道", "竹林大道", "七贤路")),
    Region("410822", "博爱县", 1983, ("清化街", "鸿昌路", "健康路")),
    Region("410823", "武陟县", 1986, ("龙源路", "木栾大道", "建设路")),
    Region("410825", "温县", 1986, ("子夏大街", "黄河路", "太行路")),
    Region("410882", "沁阳市", 1989, ("覃怀路", "沁园路", "怀府路")),
    Region("410883", "孟州市", 1996, ("韩愈大街", "河阳大街", "会昌路")),
)

_SURNAMES = (  # The most common surnames, more or less in order.
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    "郑梁谢宋唐许韩冯邓曹彭曾田董袁潘蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢崔"
)
_MALE_CHARS = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欣博文建国志红卫东海峰"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞秀燕玲桂丹萍红玉兰英梅琳雪倩婷颖洁慧琴云莉佳悦欣怡雅晶"
_FIRM_NAMES = (
    "鑫源",
    "宏达",
    "恒通",
    "怀府",
    "太行",
    "万方",
    "隆盛",
    "锦程",
    "德润",
    "金穗",
    "豫通",
    "覃怀",
)
_TRADES = ("商贸", "建筑工程", "机械制造", "食品", "物流", "房地产开发", "化工", "农业科技")
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ADULT_YEARS = (1983, 2000)
_LAST_CHILD_YEAR = 2022


@dataclass(frozen=True, slots=True)
class Person:
    """A resident of the demo population."""

    name: str
    id_number: str
    sex: str  # 男 or 女
    birth_date: datetime.date
    address: str


@dataclass(frozen=True, slots=True)
class Household:
    """A registered household (户); ``members`` pairs each person with a GB/T 4761 code."""

    number: str
    address: str
    region_code: str
    members: tuple[tuple[Person, str], ...]

    @property
    def head(self) -> Person:
        """The head of household (relation code 02)."""
        return self.members[0][0]


@dataclass(frozen=True, slots=True)
class Marriage:
    """A marriage registration, and its divorce registration if any."""

    husband: Person
    wife: Person
    registered_on: datetime.date
    office: str
    divorced_on: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class Organisation:
    """A company registered in Jiaozuo."""

    name: str
    uscc: str
    address: str
    legal_representative: Person


@dataclass(frozen=True, slots=True)
class Population:
    """Everything the demo agencies' data is drawn from."""

    people: tuple[Person, ...]
    households: tuple[Household, ...]
    marriages: tuple[Marriage, ...]
    organisations: tuple[Organisation, ...]


class _Registry:
    """Hands out unique, valid resident ID numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.issued: set[str] = set()

    def person(
        self, region: Region, born: datetime.date, male: bool, surname: str, address: str
    ) -> Person:
        while True:
            # The order code is odd for men and even for women (GB 11643).
            order = self.rng.randrange(1 if male else 2, 999, 2)
            body = f"{region.code}{born:%Y%m%d}{order:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.issued:
                break
        ric.validate(number)  # Never hand out a number the gateway would refuse.
        self.issued.add(number)
        chars = _MALE_CHARS if male else _FEMALE_CHARS
        given = "".join(self.rng.choice(chars) for _ in range(self.rng.choice((1, 2, 2))))
        return Person(surname + given, number, "男" if male else "女", born, address)


def seeded_random(seed: int, purpose: str = "") -> random.Random:
    """A generator for one purpose (an agency, the debtors ...), fixed by ``seed``.

    String seeds are hashed with SHA-512 by ``random.seed``, so the stream does
    not change between runs or Python processes.
    """
    return random.Random(f"{seed}/{purpose}" if purpose else seed)


def generate_population(rng: random.Random, households: int = 100) -> Population:
    """Generate ``households`` households, their marriages, and a dozen companies."""
    registry = _Registry(rng)
    homes = [_household(rng, registry, index) for index in range(households)]
    marriages = [_marriage(rng, home) for home in homes if len(home.members) > 1]
    marriages += _divorces(rng, [home.head for home in homes if len(home.members) == 1])
    people = tuple(person for home in homes for person, _ in home.members)
    adults = [p for p in people if p.birth_date.year <= _ADULT_YEARS[1]]
    organisations = tuple(_organisation(rng, index, adults) for index in range(12))
    return Population(people, tuple(homes), tuple(marriages), organisations)


def _household(rng: random.Random, registry: _Registry, index: int) -> Household:
    region = rng.choice(REGIONS)
    head_male = rng.random() < 0.7
    head_born = _birth_date(rng, max(region.first_year, _ADULT_YEARS[0]), _ADULT_YEARS[1])
    surname = rng.choice(_SURNAMES)
    address = _address(rng, region)
    head = registry.person(region, head_born, head_male, surname, address)
    members: list[tuple[Person, str]] = [(head, "02")]
    if rng.random() < 0.75:
        spouse_region = rng.choice([r for r in REGIONS if r.first_year <= head_born.year])
        low = max(spouse_region.first_year, _ADULT_YEARS[0], head_born.year - 3)
        spouse_born = _birth_date(rng, low, min(_ADULT_YEARS[1], head_born.year + 3))
        spouse = registry.person(
            spouse_region, spouse_born, not head_male, rng.choice(_SURNAMES), address
        )
        members.append((spouse, "10"))
        father_surname = surname if head_male else spouse.name[0]
        first = max(head_born.year, spouse_born.year) + 23
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3)) if first <= _LAST_CHILD_YEAR else 0):
            male = rng.random() < 0.5
            born = _birth_date(rng, first, _LAST_CHILD_YEAR)
            child = registry.person(region, born, male, father_surname, address)
            members.append((child, "20" if male else "30"))
    number = f"{region.code[2:]}{index:06d}"
    return Household(number, address, region.code, tuple(members))


def _marriage(rng: random.Random, home: Household) -> Marriage:
    head, spouse = home.members[0][0], home.members[1][0]
    husband, wife = (head, spouse) if head.sex == "男" else (spouse, head)
    adult = max(husband.birth_date, wife.birth_date).replace(month=1, day=1)
    eldest = min((p.birth_date for p, code in home.members[2:]), default=datetime.date(2023, 12, 1))
    registered = adult + datetime.timedelta(days=22 * 365)
    latest = max(eldest - datetime.timedelta(days=300), registered)
    return Marriage(husband, wife, date_between(rng, registered, latest), _office(home.region_code))


def _divorces(rng: random.Random, singles: list[Person]) -> list[Marriage]:
    men = [p for p in singles if p.sex == "男"]
    women = [p for p in singles if p.sex == "女"]
    divorces = []
    for husband, wife in zip(men, women, strict=False):
        if rng.random() < 0.6:
            start = max(husband.birth_date, wife.birth_date) + datetime.timedelta(days=22 * 365)
            married = date_between(rng, start, max(start, datetime.date(2019, 12, 31)))
            divorced = date_between(
                rng, married + datetime.timedelta(400), datetime.date(2023, 6, 30)
            )
            office = _office(husband.id_number[:6])
            divorces.append(Marriage(husband, wife, married, office, divorced))
    return divorces


def _organisation(rng: random.Random, index: int, adults: list[Person]) -> Organisation:
    region = rng.choice(REGIONS)
    # 9: registered by market regulation; 1: a company (GB 32100).
    body = "91" + region.code + "".join(rng.choice(_USCC_CHARS[:10]) for _ in range(8))
    body += rng.choice(_USCC_CHARS[:10] + "X")
    code = uscc.validate(body + uscc.calc_check_digit(body))
    name = f"焦作市{_FIRM_NAMES[index % len(_FIRM_NAMES)]}{rng.choice(_TRADES)}有限公司"
    return Organisation(name, code, _address(rng, region), rng.choice(adults))


def _address(rng: random.Random, region: Region) -> str:
    street = rng.choice(region.streets)
    if rng.random() < 0.6:
        building = f"{rng.randint(1, 12)}号楼{rng.randint(1, 4)}单元"
        flat = f"{rng.randint(1, 18)}0{rng.randint(1, 4)}室"
        return f"河南省焦作市{region.name}{street}{rng.randint(1, 399)}号院{building}{flat}"
    return f"河南省焦作市{region.name}{street}{rng.randint(1, 399)}号"


def _office(region_code: str) -> str:
    name = next(r.name for r in REGIONS if r.code == region_code)
    return f"焦作市{name}民政局婚姻登记处" if name.endswith("区") else f"{name}民政局婚姻登记处"


def _birth_date(rng: random.Random, first_year: int, last_year: int) -> datetime.date:
    return date_between(rng, datetime.date(first_year, 1, 1), datetime.date(last_year, 12, 31))


def date_between(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    """A day from ``first`` to ``last`` inclusive; ``first`` if ``last`` is earlier."""
    return first + datetime.timedelta(days=rng.randint(0, max(0, (last - first).days)))
