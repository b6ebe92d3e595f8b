"""Benchmark: catalogue search over 10,000 generated service items against a naive substring scan.

make bench      # or: .venv/bin/python bench/search_bench.py

Generates 10,000 realistic 事项 names deterministically (random.Random(2024)) from department, object,
action and suffix vocabularies, builds a SearchIndex (timed, with a cold pinyin cache), then runs a
fixed mix of queries (Chinese partial, full pinyin, initials, one wrong character, department
keywords, no hit) and reports p50/p95/p99/max per query, against a same-run baseline: the naive
``query in name`` scan over the 10,000 names; then the same queries once more asking for every match
(``limit=None``, what the API's ``count`` needs). Peak and retained memory of an index build come from
tracemalloc. No Django involved.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from yuexiu.catalog.search import (  # noqa: E402
    SearchDocument,
    SearchIndex,
    pinyin_initials,
    slug_for,
)

DOCUMENTS = 10_000
SEED = 2024

DEPARTMENTS = (
    "广州市越秀区市场监督管理局",
    "广州市越秀区住房和城乡建设局",
    "广州市越秀区水务局",
    "广州市越秀区城市管理和综合执法局",
    "广州市公安局越秀区分局",
    "广州市越秀区民政局",
    "广州市越秀区卫生健康局",
    "广州市越秀区人力资源和社会保障局",
    "广州市越秀区教育局",
    "广州市越秀区发展和改革局",
    "广州市越秀区文化广电旅游体育局",
    "广州市越秀区司法局",
    "广州市越秀区退役军人事务局",
    "广州市越秀区医疗保障局",
    "广州市越秀区残疾人联合会",
    "广州市越秀区规划和自然资源局",
    "广州市生态环境局越秀分局",
    "广州市越秀区应急管理局",
    "广州市越秀区北京街道办事处",
    "广州市越秀区洪桥街道办事处",
)
ITEM_TYPES = ("行政许可", "行政确认", "公共服务", "其他行政权力", "行政给付", "行政备案", "行政裁决", "行政奖励")
BUNDLES = (
    "新生儿出生一件事",
    "开办餐饮店一件事",
    "企业信息变更一件事",
    "开办运输企业一件事",
    "水电气网联合报装一件事",
    "信用修复一件事",
    "教育入学一件事",
    "残疾人服务一件事",
    "退休一件事",
    "军人退役一件事",
)
OBJECTS = (
    "食品经营",
    "食品小作坊",
    "小餐饮",
    "建筑工程施工",
    "建设工程规划",
    "排水",
    "城镇污水排入排水管网",
    "户外广告设施设置",
    "居住证",
    "低保",
    "最低生活保障",
    "特困人员供养",
    "临时救助",
    "公共场所卫生",
    "个体工商户",
    "企业投资项目",
    "城乡居民基本养老保险",
    "失业保险金",
    "灵活就业人员社会保险",
    "出生医学证明",
    "生育登记",
    "婚姻登记",
    "校外培训机构",
    "民办学校办学",
    "人力资源服务",
    "医疗机构执业",
    "中医诊所",
    "药品零售",
    "母婴保健技术服务",
    "放射诊疗",
    "娱乐场所经营",
    "营业性演出",
    "出版物零售",
    "互联网上网服务营业场所",
    "旅行社",
    "高危险性体育项目经营",
    "临时占用城市道路",
    "挖掘城市道路",
    "城市绿地占用",
    "砍伐城市树木",
    "燃气经营",
    "二次供水设施卫生",
    "养犬登记",
    "养老机构",
    "托育机构",
    "社会团体",
    "民办非企业单位",
    "残疾人证",
    "独生子女父母光荣证",
    "法律援助",
    "人民调解",
    "专业技术资格",
    "公共租赁住房",
    "商品房预售",
    "物业服务企业",
    "人防工程",
    "水土保持方案",
    "河道管理范围内建设项目",
    "取水",
    "排污",
    "环境影响评价文件",
    "危险化学品经营",
    "烟花爆竹零售",
    "特种设备使用",
    "医疗保险参保",
    "门诊特定病种",
    "退役军人优待证",
    "老年人优待证",
    "高龄津贴",
    "广播电视节目制作经营",
)
ACTIONS = (
    "许可",
    "备案",
    "登记",
    "核发",
    "变更",
    "注销",
    "延续",
    "审批",
    "核准",
    "确认",
    "补办",
    "换发",
    "申领",
    "申请",
    "资格认定",
    "证明开具",
    "信息查询",
)
SUFFIXES = (
    "",
    "",
    "",
    "（新办）",
    "（技术改造）",
    "（首次申请）",
    "（变更）",
    "（延续）",
    "（注销）",
    "（补证）",
    "（告知承诺制）",
    "（简易程序）",
    "（法人）",
    "（个人）",
    "（分支机构）",
    "（首次签发）",
)
PREFIXES = ("", "", "", "", "", "区级", "街道", "全市通办", "跨省通办", "港澳居民")
MATERIALS = (
    "申请人身份证",
    "营业执照",
    "申请表",
    "经营场所平面图",
    "法定代表人身份证明",
    "授权委托书",
    "房屋租赁合同",
    "承诺书",
    "户口簿",
    "出生医学证明",
    "结婚证",
    "健康证明",
    "施工图设计文件审查合格书",
    "排水设施竣工图",
    "消防验收意见书",
    "社会保障卡",
    "居民身份证复印件",
)
CONDITIONS = (
    "申请人应当具有与经营项目相适应的场所",
    "符合相关法律法规规定的条件",
    "在本区连续居住满六个月",
    "家庭人均收入低于本市最低生活保障标准",
    "已依法取得土地使用权",
    "具有相应的专业技术人员",
    "设施设备符合卫生规范",
    "无违法违规记录",
)
NO_HIT_QUERIES = (
    "火星移民签证",
    "量子计算机维修",
    "深海潜艇驾照",
    "恐龙饲养许可",
    "宇宙飞船年检",
    "zzqqxxkk",
    "qwertyuiop",
    "xyzzy",
    "外星人居留",
    "时间旅行备案",
    "魔法学校入学",
    "jjjjjjjj",
    "龙宫户口迁移",
    "月球土地买卖",
    "vvvvvv",
    "天庭公务员报名",
    "银河系旅游签注",
    "机器人结婚登记",
    "hhxxttyy",
    "蓬莱仙岛落户",
)
WRONG_CHARACTERS = "哥名正明可歌记级办半证政许须营赢工公业叶施师"


def generate_documents(rng: random.Random) -> list[SearchDocument]:
    """10,000 documents: name = [prefix] object action [suffix], with department/type/bundle keywords and a body."""
    documents = []
    for number in range(DOCUMENTS):
        name = rng.choice(PREFIXES) + rng.choice(OBJECTS) + rng.choice(ACTIONS) + rng.choice(SUFFIXES)
        key = f"item-{number:05d}"  # not slug_for: the timed build must start with a cold pinyin cache
        keywords = " ".join(
            [rng.choice(DEPARTMENTS), rng.choice(ITEM_TYPES)] + ([rng.choice(BUNDLES)] if rng.random() < 0.2 else [])
        )
        body = (
            "受理条件：" + "；".join(rng.sample(CONDITIONS, 2)) + "。申请材料：" + "、".join(rng.sample(MATERIALS, 4))
        )
        documents.append(SearchDocument(key=key, name=name, keywords=keywords, body=body, boost=round(rng.random(), 3)))
    return documents


def han_slice(rng: random.Random, name: str, low: int, high: int) -> str:
    """A run of ``low``..``high`` characters from the Chinese part of a name (brackets excluded)."""
    core = name.split("（")[0]
    size = min(len(core), rng.randint(low, high))
    start = rng.randrange(len(core) - size + 1)
    return core[start : start + size]


def build_queries(rng: random.Random, documents: list[SearchDocument]) -> list[tuple[str, str]]:
    """210 (kind, query) pairs in a fixed order."""
    names = [document.name for document in documents]
    queries: list[tuple[str, str]] = []
    for _ in range(50):
        queries.append(("chinese partial", han_slice(rng, rng.choice(names), 2, 5)))
    for number in range(40):
        # slug_for spells the slice phrase-aware (调解 = tiao jie), as a pinyin input method user would type it
        spelled = slug_for(han_slice(rng, rng.choice(names), 2, 4)).replace("-", " ")
        if number % 2:
            spelled = spelled.replace(" ", "")
        queries.append(("full pinyin", spelled.upper() if number % 5 == 0 else spelled))
    for _ in range(40):
        queries.append(("initials", pinyin_initials(han_slice(rng, rng.choice(names), 3, 6))))
    for _ in range(50):
        piece = list(han_slice(rng, rng.choice(names), 5, 8))
        position = rng.randrange(len(piece))
        piece[position] = rng.choice([character for character in WRONG_CHARACTERS if character != piece[position]])
        queries.append(("one wrong character", "".join(piece)))
    for department in DEPARTMENTS[:10]:
        queries.append(("keywords", department.removeprefix("广州市越秀区")))
    for query in NO_HIT_QUERIES:
        queries.append(("no hit", query))
    return queries


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(samples: list[float]) -> str:
    return (
        f"p50 {percentile(samples, 0.50):.2f} ms, p95 {percentile(samples, 0.95):.2f} ms, "
        f"p99 {percentile(samples, 0.99):.2f} ms, max {max(samples):.2f} ms"
    )


def main() -> None:
    rng = random.Random(SEED)
    documents = generate_documents(rng)

    began = time.perf_counter()
    index = SearchIndex(documents)
    build_seconds = time.perf_counter() - began

    queries = build_queries(rng, documents)
    began = time.perf_counter()
    taken: set[str] = set()
    for document in documents:
        taken.add(slug_for(document.name, taken))
    slug_seconds = time.perf_counter() - began

    tracemalloc.start()
    measured = SearchIndex(documents)  # pinyin cache already warm: this is the index's own memory
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del measured

    names = [document.name for document in documents]
    for _, query in queries[:20]:  # warm-up, not measured
        index.search(query)
        [name for name in names if query in name]

    ours: list[float] = []
    baseline: list[float] = []
    by_kind: dict[str, list[float]] = {}
    no_result = 0
    cpu: list[float] = []
    for kind, query in queries:
        began, began_cpu = time.perf_counter(), time.process_time()
        hits = index.search(query, limit=20)
        elapsed = (time.perf_counter() - began) * 1000
        cpu.append((time.process_time() - began_cpu) * 1000)
        ours.append(elapsed)
        by_kind.setdefault(kind, []).append(elapsed)
        no_result += not hits
        began = time.perf_counter()
        [name for name in names if query in name]
        baseline.append((time.perf_counter() - began) * 1000)

    print(f"documents: {len(index)}; distinct names: {len(set(names))}")
    print(f"index build: {build_seconds:.2f} s (cold pinyin cache)")
    print(f"slug_for over the {len(documents)} names (warm cache): {slug_seconds:.2f} s, {len(taken)} distinct slugs")
    print(f"index memory (tracemalloc): {retained / 2**20:.1f} MiB retained, {peak / 2**20:.1f} MiB peak during build")
    print(f"queries: {len(queries)} ({', '.join(f'{kind} {len(times)}' for kind, times in by_kind.items())})")
    print(f"queries with no hit: {no_result} (of which {len(NO_HIT_QUERIES)} are meant to find nothing)")
    print(f"search (limit 20): {summary(ours)}")
    print(f"  the same, CPU time of this process (less sensitive to other load): {summary(cpu)}")
    for kind, times in by_kind.items():
        print(f"  {kind:<20} p50 {statistics.median(times):.2f} ms, max {max(times):.2f} ms")
    print(f"baseline `query in name` scan: {summary(baseline)}")
    print(f"ratio p95 / baseline p95: {percentile(ours, 0.95) / percentile(baseline, 0.95):.1f}x")

    # The API's count and the page's "找到 N 个事项" need every match, not the first 20.
    everything: list[float] = []
    everything_cpu: list[float] = []
    matches = 0
    for _, query in queries:
        began, began_cpu = time.perf_counter(), time.process_time()
        matches += len(index.search(query, limit=None))
        everything.append((time.perf_counter() - began) * 1000)
        everything_cpu.append((time.process_time() - began_cpu) * 1000)
    print(f"search, every match (limit None; {matches} hits in all): {summary(everything)}")
    print(f"  the same, CPU time: {summary(everything_cpu)}")
    print(f"ratio p95 every match / baseline p95: {percentile(everything, 0.95) / percentile(baseline, 0.95):.1f}x")


if __name__ == "__main__":
    main()
