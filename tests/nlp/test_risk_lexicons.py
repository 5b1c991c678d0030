"""The crisis lexicons per family (kefu/nlp/lexicons/*.toml) and their loader.

Every sentence is written for these tests: several industries per family, Hong Kong and
Taiwan wording in traditional characters, unpunctuated voice-to-text, and hard negatives
(asking what a regulator is, a product named after a risk word, a hypothetical, another
company's event, a regulator named as a place).
"""

from __future__ import annotations

import pytest

from kefu.nlp.lexicons import LexiconError, load_families
from kefu.nlp.normalize import normalize
from kefu.nlp.risks import find_risks
from kefu.settings import get_settings


def risks_of(text: str) -> set[str]:
    return {hit.risk.value for hit in find_risks(normalize(text).text)}


def reason_of(text: str, risk: str) -> str:
    [hit] = [h for h in find_risks(normalize(text).text) if h.risk.value == risk]
    return hit.reason


# --- media ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "信用卡年费乱扣，再不退我就发小红书让大家都避雷",  # banking
        "宽带师傅放了三次鸽子 我已经录好视频了准备发抖音",  # telecom, voice-to-text
        "航班取消不给安排酒店，求扩散，大家评评理",  # travel
        "網課退款拖了兩個月，我會去連登同埋搵傳媒報料",  # education, Hong Kong
        "物業亂收停車費，我要PO上爆料公社給大家看",  # property, Taiwan
        "外卖骑手把汤洒了还骂人，我要找记者曝光这家平台",  # food delivery
    ],
)
def test_media_threats_in_every_industry(text):
    assert "media" in risks_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "你们官方微博是哪个账号？",  # asking about the thing
        "我在抖音上看到你们的套餐广告，想问下怎么办理",  # seen on a platform
        "抖音快手定向流量包一个月多少钱",  # a product named after the platforms
        "这个相机的曝光补偿在哪里调",  # product word
        "我不会发微博的，只想赶紧把网修好",  # negated
        "刚才的司机很贴心，已经拍了个抖音夸夸他",  # praise, not exposure
    ],
)
def test_media_hard_negatives(text):
    assert "media" not in risks_of(text)


def test_media_reason_names_the_platform_kind():
    assert reason_of("我已经把聊天记录发微博了", "media") == "威胁在微博、抖音等社交平台曝光"


# --- regulator -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("贷款提前还款被收违约金，我要去金融监管总局投诉", "威胁向金融监管部门投诉"),
        ("航班延误六小时没人管我已经打了12326投诉你们", "威胁向民航主管部门投诉"),
        ("携号转网一直被拦，我准备向工信部申诉", "威胁向电信主管部门（工信部）申诉"),
        ("培训班不退费，我明天就去教育局反映", "威胁向教育主管部门投诉"),
        ("物业乱收费，再不改我就打12345", "威胁打12345等政务热线投诉"),
        ("網上課程唔俾退款，我會去消委會投訴", "提到香港消费者委员会"),
        ("保單理賠一直拖，我已向金管會和評議中心申訴", "威胁向台湾金融监管或评议机构申诉"),
        ("寬頻一直斷線，再不處理就去NCC檢舉", "威胁向台湾通传会申诉"),
        ("快递丢件三天不回复，我已经在邮政管理局申诉了", "威胁向邮政管理部门申诉"),
    ],
)
def test_regulator_threats_name_the_regulator(text, reason):
    assert reason_of(text, "regulator") == reason


@pytest.mark.parametrize(
    "text",
    [
        "消委會電話幾多號？",  # asking about the thing, Hong Kong
        "请问金管会是管什么的",  # asking what it is
        "我家就在市场监管局旁边的小区，快递能送到吗",  # a place
        "酒店在工信部大楼附近吗",  # a place
        "携号转网要是被拦着，是不是可以去工信部申诉？我还没开始办",  # wondering
        "工商银行的卡能绑定吗",  # harmless compound
        "付了1999的系统班，视频一直转圈",  # a price, not Taiwan's 1999 hotline
    ],
)
def test_regulator_hard_negatives(text):
    assert "regulator" not in risks_of(text)


def test_asking_how_to_complain_to_a_regulator_is_an_intent():
    assert "regulator" in risks_of("怎么向银保监投诉你们乱收费？")


# --- legal -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "保险拒赔我已经委托律师了",  # insurance
        "酒店偷拍的事我已经报警了",  # travel
        "课程合同写的可以退 你们不退我就去法院起诉",  # education, voice-to-text
        "裝修公司收咗錢唔開工，我會去小額錢債審裁處入稟",  # home repair, Hong Kong
        "電信公司亂收費，我要寄存證信函然後提告",  # telecom, Taiwan
        "车子修了三次还漏油，我要申请仲裁",  # car after-sales
    ],
)
def test_legal_threats_in_every_industry(text):
    assert "legal" in risks_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "律师事务所采购十台笔记本，能开专票吗",  # harmless compound
        "快递送到法院门口就行，我在那边上班",  # a place
        "我不想走法律途径，咱们好好协商",  # negated
        "之前在别的平台被骗过，报过警也没追回来，你们转账能撤回吗",  # another company's event
        "车子仪表盘一直胎压报警是怎么回事",  # a product's alarm
        "这家的魔鬼辣辣得我差点报警，但是真香",  # a joke
        "我已在贵司报案，理赔什么时候到账",  # an insurance claim report
    ],
)
def test_legal_hard_negatives(text):
    assert "legal" not in risks_of(text)


# --- safety ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "点的麻辣烫吃完全家上吐下泻，现在在医院",  # food delivery
        "热水器一开就有煤气味，家里还有老人",  # utilities
        "电梯突然下坠把我们困在里面半个小时",  # property
        "网约车司机一边开车一边玩手机 差点撞上护栏",  # travel, voice-to-text
        "新車開了一個月剎車失靈，差點撞到人",  # car after-sales, traditional
        "酒店浴室地滑我媽摔倒骨折了",  # hotel
        "醫院開錯藥，我爸食完成日嘔",  # hospital, Hong Kong wording
        "充電樁漏電，我兒子摸到被電了一下",  # Taiwan-style, traditional
    ],
)
def test_safety_harms_in_every_industry(text):
    assert "safety" in risks_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "家用灭火器哪款好",  # harmless compound
        "这个暖风机会不会漏电？",  # hypothetical
        "去年家里着火，卡烧没了，想补一张",  # an old event
        "我骑车摔了腿骨折了，买的意外险能赔吗",  # an insurance claim
        "你家那个爆炸辣鸡翅有多辣",  # product name
        "价格骨折了，快来抢",  # slang
        "孩子没有受伤，就是吓到了，想问问座椅怎么装",  # absent
    ],
)
def test_safety_hard_negatives(text):
    assert "safety" not in risks_of(text)


# --- privacy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "刚订完机票就有人打电话说航班取消，连我的航班号和身份证后四位都说得出来",  # travel
        "我没办过你们的卡，名下多了一张信用卡，肯定是被冒名办卡了",  # banking
        "退订了还天天发营销短信",  # telecom
        "体检报告你们怎么拿到我单位的地址还寄过去了 我的隐私被泄露了",  # health, voice-to-text
        "你們補習班把我女兒的照片同成績貼出來，個資外洩咗",  # education, Hong Kong
        "在你們飯店訂房後就一直接到詐騙電話",  # hotel, Taiwan
    ],
)
def test_privacy_harms_in_every_industry(text):
    assert "privacy" in risks_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "你们的隐私政策在哪里看？",  # asking about the thing
        "骚扰电话拦截功能在哪里开",  # a product feature
        "你们会不会把我的手机号给别人？",  # hypothetical
        "去年有一家网盘出过文件泄露的新闻，你们加密怎么做的",  # another company's event
        "燃气泄漏报警器多少钱一个",  # gas, not data
        "外卖的隐私号是虚拟号吗",  # product word
        "影完身份證副本你哋會唔會洩露個人資料？",  # hypothetical, Cantonese
        "怎么关掉营销短信？",  # asking how, not reporting harassment
    ],
)
def test_privacy_hard_negatives(text):
    assert "privacy" not in risks_of(text)


# --- discrimination --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "酒店一看我是新疆身份证就说不能入住",  # hotel
        "营业厅的人说你们老年人搞不懂这些，让我回家叫孩子来",  # telecom
        "就因为我是外地人，银行柜员就不给办",  # banking
        "面试老师说女生学不了后端 这不是性别歧视是什么",  # education, voice-to-text
        "餐廳唔接待坐輪椅嘅客人，呢個係歧視",  # restaurant, Hong Kong
        "房東一聽我是新住民就不租給我",  # housing, Taiwan
    ],
)
def test_discrimination_in_every_industry(text):
    assert "discrimination" in risks_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "我是外地人，能在这边办宽带吗",  # a group alone
        "老人能不能办这个套餐",  # a question
        "你们会不会因为我是外地的就不给办？",  # hypothetical
        "性别那一栏填错了怎么改",  # 别 of 性别 is no negation, and no harm either
        "这个药太贵了，看不起病啊",  # harmless compound
    ],
)
def test_discrimination_hard_negatives(text):
    assert "discrimination" not in risks_of(text)


# --- the loader ------------------------------------------------------------------------


def test_every_family_loads_with_reasons_and_regions():
    families = load_families()
    assert [f.risk.value for f in families] == [
        "media",
        "regulator",
        "legal",
        "safety",
        "privacy",
        "discrimination",
    ]
    assert [f.threat for f in families] == [True, True, True, False, False, False]
    regions = {e.region for f in families for e in f.entries}
    assert {"hk", "tw", "mainland"} <= regions
    assert all(e.reason for f in families for e in f.entries)


EXTENSION = """
risk = "regulator"
harmless = ["星光监管局咖啡"]

[[entries]]
reason = "威胁向星光市燃气主管部门投诉"
terms = ["星光监管局"]
industry = "utilities"
region = "mainland"
"""


def test_an_extension_directory_adds_terms_and_harmless_compounds(tmp_path):
    (tmp_path / "city.toml").write_text(EXTENSION, encoding="utf-8")
    families = load_families(tmp_path)
    hits = find_risks(normalize("燃气费多扣了，我要去星光监管局投诉").text, families)
    assert [(h.risk.value, h.reason) for h in hits] == [
        ("regulator", "威胁向星光市燃气主管部门投诉")
    ]
    assert find_risks(normalize("我要去星光监管局咖啡买一杯拿铁").text, families) == []
    # without the extension the made-up name means nothing
    assert find_risks(normalize("燃气费多扣了，我要去星光监管局投诉").text) == []


def test_the_setting_names_the_extension_directory(tmp_path, monkeypatch):
    (tmp_path / "city.toml").write_text(EXTENSION, encoding="utf-8")
    monkeypatch.setenv("KEFU_LEXICON_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert risks_of("我要去星光监管局投诉") == {"regulator"}
    finally:
        monkeypatch.delenv("KEFU_LEXICON_DIR")
        get_settings.cache_clear()
    assert risks_of("我要去星光监管局投诉") == set()


def test_traditional_terms_in_an_extension_are_normalized(tmp_path):
    (tmp_path / "tw.toml").write_text(
        'risk = "regulator"\n[[entries]]\nreason = "威胁向台湾某县消保单位申诉"\n'
        'terms = ["某縣消保單位"]\nregion = "tw"\n',
        encoding="utf-8",
    )
    hits = find_risks(normalize("我要去某縣消保單位申訴").text, load_families(tmp_path))
    assert [h.reason for h in hits] == ["威胁向台湾某县消保单位申诉"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('risk = "regulator"\n[[entries]\nterms = ["x"]', "cannot read lexicon"),
        ('risk = "gossip"\n', "'risk' must be one of"),
        ('risk = "media"\n[[entries]]\nterms = ["群聊"]\n', "needs a 'reason'"),
        ('risk = "media"\n[[entries]]\nreason = "x"\n', "needs 'terms' or 'patterns'"),
        ('risk = "media"\n[[entries]]\nreason = "x"\npatterns = ["(群"]\n', "not a valid regex"),
        ('risk = "media"\nkind = "harm"\n', "media is a threat family"),
        ('risk = "legal"\n[[entries]]\nreason = "x"\nterms = ["12399"]\n', "HOTLINES"),
        ('risk = "legal"\n[[entries]]\nreason = "x"\nterms = ["y"]\nregion = "sg"\n', "'region'"),
        ('risk = "legal"\nterm = ["y"]\n', "unknown keys"),
    ],
)
def test_a_malformed_file_gives_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError, match=message) as raised:
        load_families(tmp_path)
    assert "bad.toml" in str(raised.value)


def test_a_missing_extension_directory_is_an_error(tmp_path):
    with pytest.raises(LexiconError, match="not a directory"):
        load_families(tmp_path / "nowhere")


# --- wording found missing on messages of another writer (kefu-written.jsonl) ---------------
@pytest.mark.parametrize(
    ("text", "risk"),
    [
        ("司机看我是外国人，听不懂就直接把我赶下车", "discrimination"),  # nationality, travel
        ("柜员见我坐轮椅，说这种情况不予办理让我回去", "discrimination"),  # disability, bank
        ("客服听出我口音，来一句你们广西人是不是都这样", "discrimination"),  # region, telecom
        ("跟团的导游嫌老人家走太慢拖累大家，一路甩脸色", "discrimination"),  # age, travel
        ("你们委托的催收公司打给我单位领导和我爸妈，说我欠钱", "privacy"),  # finance
        ("我存在网盘里的私密照片被别人转存了，我根本没分享过", "privacy"),  # software
        ("退会员时就说了别再给我打电话，这周销售又打了五次", "privacy"),  # gym
        ("装修完住进来全家咳嗽，一测甲醛超标三倍", "safety"),  # home repair
        ("药房拿错药了，我妈吃了两天现在头晕恶心", "safety"),  # hospital
        ("家教老师因为题做错打手心，孩子手都肿了", "safety"),  # education
    ],
)
def test_harms_in_new_wording(text, risk):
    assert risk in risks_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "请问金融监管总局的消费者投诉热线是多少？我在做课程作业",  # asking for a number
        "请问民航局的投诉网站是哪个？目前没什么问题",  # asking for a website
        "请问工信部的申诉中心具体管什么",  # asking what it does
        "我不是要投诉你们，就问问去人民银行打征信报告要钱吗",  # a complaint denied
        "柜员发现我爸要给骗子转钱，当场拦下还帮我们报了警，太感谢了",  # praise: helped to the police
        "我去年被骗过钱，当时报过警，现在想问下你们的理财保本吗",  # an old matter, as background
        "建议对公转账加个入口，我们单位是法院后勤，每次都要走流程",  # a workplace
        "这家的烤鱼辣到爆炸，越吃越上头",  # "extremely"
        "上个月邻居家着火把我家墙熏黑了，跟你们没关系，想问找谁评估",  # not the company's doing
    ],
)
def test_hard_negatives_of_another_writer(text):
    assert risks_of(text) == set()
