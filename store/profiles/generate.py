"""Realistic, deterministic profile CSVs for the demo workspace and the 1M-profile benchmark.

Names, cities, time zones and phone numbers come in per-country sets so a profile reads like a
person (a Tokyo time zone goes with a +81 number); some cities need CSV quoting on purpose.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HEADER = [
    "id", "person.name.firstName", "person.name.lastName", "timeZone", "locale", "address.city",
    "loyalty.tier", "loyalty.points:number", "identities.email", "identities.phone", "identities.push_token",
    "consent.email", "consent.sms", "consent.push", "suppressed", "lists",
]

# (locale, calling code, national digits, time zones, cities, first names, last names, email domains);
# a name is "Native|ascii" when the two differ, the ascii part feeding the email address.
_COUNTRIES = [
    ("fr-FR", "33", 9, ["Europe/Paris"], ["Paris", "Lyon", "Marseille", "Lille", "Nantes"],
     "Camille Léa|Lea Chloé|Chloe Louis Hugo Zoé|Zoe Jérôme|Jerome Manon Théo|Theo Inès|Ines",
     "Martin Bernard Dubois Lefèvre|Lefevre Moreau Girard Rousseau Fournier", ["orange.fr", "free.fr", "gmail.com"]),
    ("de-DE", "49", 10, ["Europe/Berlin"], ["Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main"],
     "Lukas Jürgen|Juergen Anna Sophie Maximilian Lena Jonas Mia",
     "Müller|Mueller Schmidt Schneider Fischer Weiß|Weiss Becker Hoffmann", ["web.de", "gmx.de", "gmail.com"]),
    ("es-ES", "34", 9, ["Europe/Madrid", "Atlantic/Canary"], ["Madrid", "Barcelona", "Sevilla", "Valencia"],
     "Lucía|Lucia Sofía|Sofia Mateo Hugo Martina Álvaro|Alvaro Pablo Carmen",
     "García|Garcia Fernández|Fernandez López|Lopez Martínez|Martinez Sánchez|Sanchez Pérez|Perez",
     ["gmail.com", "telefonica.net", "hotmail.es"]),
    ("en-US", "1", 10, ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"],
     ["New York", "Chicago", "Austin", "Seattle", "Washington, D.C.", "Portland, Oregon"],
     "James Olivia Liam Emma Noah Ava Ethan Harper", "Smith Johnson Williams Brown O'Brien Davis Miller",
     ["gmail.com", "yahoo.com", "outlook.com"]),
    ("en-GB", "44", 10, ["Europe/London"], ["London", "Manchester", "Edinburgh", "Bristol"],
     "Oliver Amelia George Isla Harry Ava Jack Freya", "Taylor Jones Evans Thomas Roberts Walker Wright",
     ["btinternet.com", "gmail.com", "outlook.com"]),
    ("ja-JP", "81", 10, ["Asia/Tokyo"], ["東京|Tokyo", "大阪|Osaka", "京都|Kyoto", "札幌|Sapporo"],
     "陽翔|haruto 結菜|yuna 蓮|ren 葵|aoi 湊|minato 凛|rin", "佐藤|sato 鈴木|suzuki 高橋|takahashi 田中|tanaka 伊藤|ito",
     ["docomo.ne.jp", "gmail.com", "yahoo.co.jp"]),
    ("zh-CN", "86", 11, ["Asia/Shanghai"], ["北京|Beijing", "上海|Shanghai", "广州|Guangzhou", "深圳|Shenzhen"],
     "伟|wei 芳|fang 娜|na 敏|min 静|jing 磊|lei", "王|wang 李|li 张|zhang 刘|liu 陈|chen", ["qq.com", "163.com"]),
    ("ar-EG", "20", 10, ["Africa/Cairo"], ["القاهرة|Cairo", "الإسكندرية|Alexandria"],
     "محمد|mohamed فاطمة|fatma أحمد|ahmed مريم|mariam", "حسن|hassan علي|ali إبراهيم|ibrahim", ["gmail.com", "yahoo.com"]),
    ("hi-IN", "91", 10, ["Asia/Kolkata"], ["Mumbai", "Delhi", "Bengaluru", "Chennai"],
     "Aarav Saanvi Vivaan Ananya Diya Arjun", "Sharma Patel Singh Kumar Gupta Reddy", ["gmail.com", "rediffmail.com"]),
    ("pt-BR", "55", 11, ["America/Sao_Paulo"], ["São Paulo|Sao Paulo", "Rio de Janeiro", "Belo Horizonte"],
     "João|Joao Maria Ana Pedro Gabriel Júlia|Julia", "Silva Santos Oliveira Souza Conceição|Conceicao",
     ["uol.com.br", "gmail.com", "bol.com.br"]),
    ("pl-PL", "48", 9, ["Europe/Warsaw"], ["Warszawa|Warsaw", "Kraków|Krakow", "Łódź|Lodz", "Gdańsk|Gdansk"],
     "Zofia Jakub Łucja|Lucja Wojciech Małgorzata|Malgorzata", "Nowak Kowalski Wiśniewski|Wisniewski Wójcik|Wojcik",
     ["wp.pl", "onet.pl", "gmail.com"]),
    ("en-AU", "61", 9, ["Australia/Sydney", "Australia/Perth"], ["Sydney", "Melbourne", "Perth"],
     "Charlotte Oliver Mia William Ruby Lachlan", "Smith Jones Williams Brown Wilson", ["bigpond.com", "gmail.com"]),
]
_WEIGHTS = [16, 10, 8, 20, 9, 6, 6, 4, 6, 6, 5, 4]
_TIERS = ["bronze", "silver", "gold", "platinum"]
_TIER_WEIGHTS = [60, 25, 12, 3]


def _split(word: str) -> tuple[str, str]:
    native, _, ascii_name = word.partition("|")
    return native, (ascii_name or native).lower().replace("'", "")


def _countries() -> list[tuple]:
    out = []
    for locale, code, digits, zones, cities, firsts, lasts, domains in _COUNTRIES:
        out.append((
            locale, code, 2 * 10 ** (digits - 1), 10 ** digits, zones, [_split(c)[0] for c in cities],
            [_split(n) for n in firsts.split()], [_split(n) for n in lasts.split()], domains,
        ))
    return out


def generate_profiles_csv(path: Path, count: int, seed: int = 0) -> Path:
    """Write ``count`` profiles with ids ``p0000001``…; the same seed always writes the same file."""
    rng = random.Random(seed)
    countries = _countries()
    width = max(7, len(str(count)))
    picks = rng.choices(range(len(countries)), weights=_WEIGHTS, k=count)
    tiers = rng.choices(_TIERS, weights=_TIER_WEIGHTS, k=count)
    rand, choice, randrange = rng.random, rng.choice, rng.randrange
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        batch = []
        for i in range(count):
            locale, code, low, high, zones, cities, firsts, lasts, domains = countries[picks[i]]
            first, first_ascii = choice(firsts)
            last, last_ascii = choice(lasts)
            n = i + 1
            email = f"{first_ascii}.{last_ascii}{n}@{choice(domains)}" if rand() < 0.94 else ""
            phone = f"+{code}{randrange(low, high)}" if rand() < 0.7 else ""
            token = f"{rng.getrandbits(128):032x}" if rand() < 0.4 else ""
            lists = []
            r = rand()
            if r < 0.3:
                lists.append("newsletter")
            if r < 0.05 or r > 0.95:
                lists.append("vip")
            if rand() < 0.03:
                lists.append("beta")
            batch.append((
                f"p{n:0{width}d}", first, last, choice(zones), locale, choice(cities), tiers[i], randrange(0, 20000),
                email, phone, token,
                "true" if email and rand() < 0.7 else "false",
                "yes" if phone and rand() < 0.45 else "no",
                "1" if token and rand() < 0.6 else "0",
                "true" if rand() < 0.02 else "false",
                ";".join(lists),
            ))
            if len(batch) == 50_000:
                writer.writerows(batch)
                batch.clear()
        writer.writerows(batch)
    return path
