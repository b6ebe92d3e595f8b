"""Catalogue search: Chinese fragments, pinyin, initials, one wrong character, ranking, slugs.

The catalogue below uses the names of the seed guides and 一件事 bundles (src/yuexiu/catalog/data);
no database is involved.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from yuexiu.catalog.search import (
    SearchDocument,
    SearchHit,
    SearchIndex,
    pinyin_initials,
    slug_for,
    to_pinyin,
)

MARKET = "广州市越秀区市场监督管理局"
HEALTH = "广州市越秀区卫生健康局"

CATALOGUE = [
    SearchDocument(
        "food-licence", "食品经营许可(新办)", f"{MARKET} 行政许可 开办餐饮店一件事", "营业执照、经营场所平面图"
    ),
    SearchDocument("sole-trader", "个体工商户设立登记", f"{MARKET} 行政许可", "经营者身份证明"),
    SearchDocument("public-hygiene", "公共场所卫生许可", f"{HEALTH} 行政许可", "卫生管理制度"),
    SearchDocument("residence-permit", "居住证申领", "广州市公安局越秀区分局 公共服务", "居住登记凭证"),
    SearchDocument("pension", "城乡居民基本养老保险参保登记", "广州市越秀区人力资源和社会保障局 公共服务", "户口簿"),
    SearchDocument("dibao", "最低生活保障审批 (审核确认)", "广州市越秀区民政局 行政给付", "家庭收入及财产情况"),
    SearchDocument("construction-permit", "建筑工程施工许可证核发", "广州市越秀区住房和城乡建设局 行政许可"),
    SearchDocument("outdoor-ads", "户外广告设施设置审批 (户外广告设置证)", "广州市越秀区城市管理和综合执法局 行政许可"),
    SearchDocument(
        "birth-certificate",
        "出生医学证明(首次签发)",
        f"{HEALTH} 公共服务 新生儿出生一件事",
        "父母双方身份证、分娩机构出具的出生记录",
    ),
    SearchDocument("drainage", "城镇污水排入排水管网许可 (排水许可)", "广州市越秀区水务局 行政许可"),
    SearchDocument("newborn-bundle", "新生儿出生一件事", "一件事 出生医学证明 户口登记 社保卡", boost=0.9),
    SearchDocument("restaurant-bundle", "开办餐饮店一件事", "一件事 食品经营许可 公共场所卫生许可", boost=0.5),
    SearchDocument(
        "investment-filing-upgrade", "企业投资项目备案（技术改造）", "广州市越秀区发展和改革局 其他行政权力"
    ),
    SearchDocument("investment-approval", "企业投资项目核准", "广州市越秀区发展和改革局 行政许可"),
    SearchDocument("mediation", "人民调解", "广州市越秀区司法局 公共服务"),
]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(CATALOGUE)


def keys(hits: list[SearchHit]) -> list[str]:
    return [hit.key for hit in hits]


def ranked(hits: list[SearchHit]) -> list[tuple[str, str]]:
    return [(hit.key, hit.matched) for hit in hits]


# Chinese fragments


def test_a_fragment_of_a_name_finds_the_names_that_contain_it_shorter_first(index: SearchIndex) -> None:
    assert ranked(index.search("投资项目")) == [
        ("investment-approval", "name"),
        ("investment-filing-upgrade", "name"),
    ]


def test_chusheng_in_chinese_finds_the_certificate_first_because_its_name_starts_with_it(index: SearchIndex) -> None:
    assert ranked(index.search("出生")) == [
        ("birth-certificate", "name"),
        ("newborn-bundle", "name"),
    ]


def test_the_whole_name_is_an_exact_match_with_the_highest_score(index: SearchIndex) -> None:
    hits = index.search("居住证申领")
    assert ranked(hits) == [("residence-permit", "name")]
    assert 9 < hits[0].score < 10


# Pinyin and initials


@pytest.mark.parametrize("query", ["chusheng", "chu sheng", "ChuSheng", "CHU SHENG", "ｃｈｕｓｈｅｎｇ"])
def test_full_pinyin_in_any_case_with_or_without_spaces_finds_the_names_with_chusheng(
    index: SearchIndex, query: str
) -> None:
    assert ranked(index.search(query)) == [
        ("birth-certificate", "pinyin"),
        ("newborn-bundle", "pinyin"),
    ]


def test_unfinished_pinyin_finds_the_name_being_typed_and_a_one_letter_off_name_after_it(index: SearchIndex) -> None:
    # 新生儿出生一件事 spells ...chushengyij..., one letter off "chushengyix"
    assert ranked(index.search("chushengyix")) == [("birth-certificate", "pinyin"), ("newborn-bundle", "fuzzy")]


def test_pinyin_only_matches_from_the_start_of_a_syllable(index: SearchIndex) -> None:
    # "engyixue" occurs in "chushengyixue" but starts inside the syllable "sheng"
    assert index.search("engyixue") == []


def test_pinyin_follows_the_phrase_so_tiaojie_finds_renmin_tiaojie(index: SearchIndex) -> None:
    assert ranked(index.search("tiaojie")) == [("mediation", "pinyin")]


def test_initials_find_the_birth_certificate(index: SearchIndex) -> None:
    # the bundle that lists the certificate among its keywords follows, lower
    assert ranked(index.search("csyxzm"))[0] == ("birth-certificate", "initials")


def test_partial_initials_find_it_too(index: SearchIndex) -> None:
    assert ranked(index.search("csyx")) == [("birth-certificate", "initials")]


# One wrong character


def test_a_wrong_character_that_sounds_the_same_is_a_pinyin_match_at_the_top(index: SearchIndex) -> None:
    assert ranked(index.search("出生医学证名"))[0] == ("birth-certificate", "pinyin")


def test_a_wrong_character_that_sounds_different_is_a_fuzzy_match(index: SearchIndex) -> None:
    assert ranked(index.search("出生医学证件")) == [("birth-certificate", "fuzzy")]


def test_shipin_jingying_xu_ge_still_finds_the_food_licence(index: SearchIndex) -> None:
    assert ranked(index.search("食品经营许哥")) == [("food-licence", "fuzzy")]


def test_one_wrong_letter_in_long_pinyin_is_a_fuzzy_match(index: SearchIndex) -> None:
    assert ranked(index.search("shipinjingyingxuge")) == [("food-licence", "fuzzy")]


def test_two_wrong_characters_are_not_tolerated(index: SearchIndex) -> None:
    assert index.search("食品经营许哥哥") == []


def test_a_short_name_inside_a_long_query_is_not_a_fuzzy_match(index: SearchIndex) -> None:
    assert index.search("人民调解委员会换届") == []


# Keywords and body


def test_a_department_name_finds_its_items_through_the_keywords(index: SearchIndex) -> None:
    assert ranked(index.search("民政局")) == [("dibao", "keywords")]


def test_a_material_finds_its_item_through_the_body(index: SearchIndex) -> None:
    assert ranked(index.search("分娩机构")) == [("birth-certificate", "body")]


def test_a_name_match_comes_before_the_same_words_in_keywords(index: SearchIndex) -> None:
    assert ranked(index.search("食品经营许可")) == [
        ("food-licence", "name"),
        ("restaurant-bundle", "keywords"),
    ]


# Ranking


LADDER = [
    SearchDocument("body", "建设工程竣工验收备案", body="需提交排水许可证复印件"),
    SearchDocument("keywords", "河道管理范围内建设项目审批", keywords="广州市越秀区水务局 排水许可"),
    SearchDocument("fuzzy", "排污许可"),
    SearchDocument("words", "排水设施许可"),
    SearchDocument("pinyin", "派水许可"),
    SearchDocument("contains", "城镇污水排入排水管网许可 (排水许可)"),
    SearchDocument("prefix", "排水许可变更"),
    SearchDocument("exact", "排水许可"),
]


def test_tiers_rank_exact_then_prefix_contains_pinyin_words_fuzzy_keywords_body() -> None:
    hits = SearchIndex(LADDER).search("排水许可")
    assert ranked(hits) == [
        ("exact", "name"),
        ("prefix", "name"),
        ("contains", "name"),
        ("pinyin", "pinyin"),
        ("words", "words"),
        ("fuzzy", "fuzzy"),
        ("keywords", "keywords"),
        ("body", "body"),
    ]
    assert [int(hit.score) for hit in hits] == [9, 8, 7, 6, 4, 3, 2, 1]


def test_a_full_pinyin_match_ranks_above_an_initials_match() -> None:
    index = SearchIndex([SearchDocument("initials", "散户核查"), SearchDocument("pinyin", "审核确认")])
    assert ranked(index.search("sh")) == [("pinyin", "pinyin"), ("initials", "initials")]


def test_pinyin_from_the_start_of_the_name_ranks_above_pinyin_further_in() -> None:
    index = SearchIndex([SearchDocument("further-in", "低保"), SearchDocument("at-start", "保险登记")])
    assert keys(index.search("bao")) == ["at-start", "further-in"]


def test_within_a_tier_shorter_names_come_first_then_higher_boost_then_key() -> None:
    index = SearchIndex(
        [
            SearchDocument("d", "排水许可证核发", boost=1.0),
            SearchDocument("c", "排水许可丙", boost=0.1),
            SearchDocument("b", "排水许可乙", boost=0.1),
            SearchDocument("a", "排水许可甲", boost=0.9),
        ]
    )
    hits = index.search("排水许可")
    assert keys(hits) == ["a", "b", "c", "d"]
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_the_order_does_not_depend_on_the_order_documents_were_given() -> None:
    forwards = SearchIndex(CATALOGUE).search("许可")
    backwards = SearchIndex(reversed(CATALOGUE)).search("许可")
    assert forwards == backwards


def test_limit_cuts_the_list_after_ranking(index: SearchIndex) -> None:
    assert keys(index.search("许可", limit=3)) == keys(index.search("许可"))[:3]
    assert index.search("许可", limit=0) == []


# Normalisation


@pytest.mark.parametrize(
    "query",
    [
        "食品经营许可(新办)",
        "食品经营许可（新办）",
        "  食品经营许可 （新办） ",
        "食品经营许可新办",
        "\u3000食品经营许可(新办)\n",
    ],
)
def test_brackets_spaces_and_full_width_forms_do_not_matter(index: SearchIndex, query: str) -> None:
    assert ranked(index.search(query)) == [("food-licence", "name")]
    assert index.search(query)[0].score > 8


@pytest.mark.parametrize("query", ["", "   ", "\u3000", "（）", "，。！"])
def test_an_empty_or_blank_query_finds_nothing(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


# The index itself


def test_the_index_counts_its_documents(index: SearchIndex) -> None:
    assert len(index) == 15
    assert len(SearchIndex([])) == 0


def test_a_duplicate_key_is_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        SearchIndex([SearchDocument("same", "居住证申领"), SearchDocument("same", "居住证签注")])


def test_the_search_module_does_not_import_django() -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    probe = "import sys; import yuexiu.catalog.search; print('django' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(src)}
    )
    assert result.stdout.strip() == "False"


# Pinyin helpers


def test_to_pinyin_spells_without_tones_or_separators() -> None:
    assert to_pinyin("出生医学证明") == "chushengyixuezhengming"


def test_to_pinyin_keeps_latin_letters_and_digits_lowercased_and_drops_punctuation() -> None:
    assert to_pinyin("ABC公司（技术改造）") == "abcgongsijishugaizao"
    assert to_pinyin("12345热线") == "12345rexian"
    assert to_pinyin("（）！") == ""


def test_to_pinyin_writes_u_umlaut_as_v_like_an_input_method() -> None:
    assert to_pinyin("绿色通道") == "lvsetongdao"


def test_initials_take_the_first_letter_of_each_syllable_and_latin_words_whole() -> None:
    assert pinyin_initials("出生医学证明") == "csyxzm"
    assert pinyin_initials("ABC公司（技术改造）") == "abcgsjsgz"


# Slugs


def test_a_chinese_name_becomes_its_pinyin_words_joined_by_hyphens() -> None:
    assert slug_for("出生医学证明") == "chu-sheng-yi-xue-zheng-ming"


def test_a_mixed_name_keeps_its_latin_word_and_drops_the_brackets() -> None:
    assert slug_for("ABC公司（技术改造）") == "abc-gong-si-ji-shu-gai-zao"
    assert slug_for("ＡＢＣ公司") == "abc-gong-si"


def test_a_name_with_nothing_to_spell_becomes_item() -> None:
    assert slug_for("（）！、") == "item"
    assert slug_for("") == "item"
    assert slug_for("（）", taken={"item"}) == "item-2"


def test_a_taken_slug_gets_the_next_free_number() -> None:
    taken = {"chu-sheng-yi-xue-zheng-ming", "chu-sheng-yi-xue-zheng-ming-2"}
    assert slug_for("出生医学证明", taken) == "chu-sheng-yi-xue-zheng-ming-3"


def test_a_long_name_is_cut_at_a_word_boundary_within_max_length() -> None:
    name = "人力资源服务许可 (经营性人力资源服务机构从事职业中介活动许可)"
    assert slug_for(name) == "ren-li-zi-yuan-fu-wu-xu-ke-jing-ying-xing-ren-li-zi-yuan-fu-wu-ji-gou-cong-shi"
    assert slug_for(name, max_length=20) == "ren-li-zi-yuan-fu-wu"


def test_the_number_of_a_taken_long_slug_still_fits_within_max_length() -> None:
    name = "人力资源服务许可 (经营性人力资源服务机构从事职业中介活动许可)"
    assert slug_for(name, taken={slug_for(name, max_length=20)}, max_length=20) == "ren-li-zi-yuan-fu-2"


def test_slugs_are_plain_ascii() -> None:
    for document in CATALOGUE:
        slug = slug_for(document.name)
        assert slug and slug.isascii() and set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
        assert not slug.startswith("-") and not slug.endswith("-") and "--" not in slug


def test_a_max_length_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        slug_for("出生医学证明", max_length=0)


def test_typed_pinyin_reaches_keywords_from_a_syllable_start() -> None:
    index = SearchIndex(
        [
            SearchDocument(key="card", name="社会保障卡申领", keywords="区人社局 新生儿出生一件事"),
            SearchDocument(key="other", name="排水许可", keywords="区水务局"),
        ]
    )
    assert ranked(index.search("chusheng")) == [("card", "keywords")]
    assert index.search("engyijian") == []
    assert index.search("chs") == []


def test_initials_of_a_common_name_find_the_item() -> None:
    index = SearchIndex([SearchDocument(key="card", name="社会保障卡申领", keywords="社保卡 区人社局")])
    assert ranked(index.search("sbk")) == [("card", "keywords")]


# Words in another order, several words, characters with gaps (issue 11 §3)

HOUSING = "广州住房公积金管理中心越秀管理部"
PENSION = "广州市越秀区人力资源和社会保障局"
WORDS_CATALOGUE = [
    SearchDocument("fund-withdrawal", "退休提取住房公积金", f"{HOUSING} 公共服务 退休一件事"),
    SearchDocument("fund-freeze", "住房公积金个人账户封存", f"{HOUSING} 公共服务 退休一件事"),
    SearchDocument("normal-retirement", "企业职工基本养老保险正常退休申请", f"{PENSION} 行政确认 退休一件事"),
    SearchDocument("card", "社会保障卡申领", f"{PENSION} 公共服务 新生儿出生一件事"),
    SearchDocument("card-bundle", '社会保障卡居民服务"一卡通"一件事', "一件事"),
    SearchDocument("birth-certificate", "出生医学证明(首次签发)", "广州市越秀区卫生健康局 公共服务 新生儿出生一件事"),
    SearchDocument("birth-registration", "国(境)内出生登记", "广州市公安局越秀区分局 行政确认 新生儿出生一件事"),
    SearchDocument("fund-loan", "住房公积金贷款提取", HOUSING),
]


@pytest.fixture(scope="module")
def words_index() -> SearchIndex:
    return SearchIndex(WORDS_CATALOGUE)


def test_words_typed_in_another_order_find_the_name(words_index: SearchIndex) -> None:
    # 公积金 + 提取 in that order first (fewer characters between), then 提取 … 公积金 reordered
    assert ranked(words_index.search("公积金提取")) == [("fund-loan", "words"), ("fund-withdrawal", "words")]


def test_several_words_in_any_order_must_all_be_found(words_index: SearchIndex) -> None:
    assert ranked(words_index.search("公积金 退休")) == [
        ("fund-withdrawal", "words"),
        ("fund-freeze", "keywords"),  # 公积金 in the name, 退休 in the bundle named in its keywords
    ]
    assert ranked(words_index.search("退休 公积金 提取")) == [("fund-withdrawal", "words")]
    assert words_index.search("公积金 出生") == []


def test_several_words_in_pinyin_are_found_in_any_order(words_index: SearchIndex) -> None:
    assert ranked(words_index.search("gongjijin tiqu")) == [
        ("fund-loan", "words"),
        ("fund-withdrawal", "words"),
    ]


def test_a_common_short_form_finds_the_full_name_through_its_characters_in_order(words_index: SearchIndex) -> None:
    assert ranked(words_index.search("社保卡")) == [("card", "words"), ("card-bundle", "words")]


def test_one_wrong_character_with_words_between_is_a_fuzzy_match(words_index: SearchIndex) -> None:
    assert ranked(words_index.search("出身证明")) == [("birth-certificate", "fuzzy")]


def test_two_wrong_characters_with_words_between_are_not_tolerated(words_index: SearchIndex) -> None:
    assert words_index.search("出身正明") == []


def test_words_in_the_query_order_rank_above_the_same_words_reordered() -> None:
    index = SearchIndex([SearchDocument("reordered", "许可之排水"), SearchDocument("in-order", "排水之许可")])
    hits = index.search("排水许可")
    assert ranked(hits) == [("in-order", "words"), ("reordered", "words")]
    # quality: 4 characters found over a span of 5 (0.8), times 0.8 when reordered (0.64)
    brevity = 0.00008 * (100 - 5)
    assert [hit.score for hit in hits] == [round(4 + 0.9 * 0.8 + brevity, 8), round(4 + 0.9 * 0.64 + brevity, 8)]


def test_fewer_characters_between_the_words_rank_first() -> None:
    index = SearchIndex([SearchDocument("far", "排水设施设备许可"), SearchDocument("near", "排水设施许可")])
    assert keys(index.search("排水许可")) == ["near", "far"]


def test_a_piece_of_one_character_does_not_make_a_reordered_match() -> None:
    # 公积金提取 cut into pieces of two or more characters: 公积 金提 … are not in 金融提示公告
    index = SearchIndex([SearchDocument("noise", "金融提示公告积分")])
    assert index.search("公积金提取") == []


@pytest.mark.parametrize("query", ["公积金提取", "公积金 退休", "社保卡", "出身证明", "gongjijin", "许可", "zm"])
def test_a_smaller_limit_gives_the_first_hits_of_a_larger_one(query: str) -> None:
    index = SearchIndex(CATALOGUE + WORDS_CATALOGUE[:3] + WORDS_CATALOGUE[4:5] + WORDS_CATALOGUE[7:])
    everything = index.search(query, limit=None)
    for limit in range(1, len(everything) + 2):
        assert index.search(query, limit=limit) == everything[:limit]
