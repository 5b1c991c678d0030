"""Dense signals: a few numbers about a message that n-grams see badly.

Word groups of generic service language (anger, worry, thanks, failure, question words,
topic words …), loudness (!!!, ？？？, capitals), emoji, whether it asks something, whether
the crisis rules or the priority cues fired, and its length. Each is a pure function of the
``Reading`` scaled to [0, 1]; a head lists the names it was trained with, so adding a
signal here never changes a shipped model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kefu.domain.triage_labels import Risk
from kefu.nlp.cues import find_cue_spans
from kefu.nlp.normalize import Normalized, normalize
from kefu.nlp.risks import RiskHit, find_risks


@dataclass(frozen=True)
class Reading:
    """What the rules read out of one message before any model runs."""

    normalized: Normalized
    risks: tuple[RiskHit, ...]
    cue_spans: dict[str, tuple[int, int]]

    @property
    def text(self) -> str:
        return self.normalized.text


def read(text: str) -> Reading:
    """Normalize a message and run the crisis rules and the priority cues on it."""
    normalized = normalize(text)
    return Reading(normalized, tuple(find_risks(normalized.text)), find_cue_spans(normalized.text))


def _capped(count: int, cap: int = 3) -> float:
    return min(count, cap) / cap


def _emoji(name: str) -> Callable[[Reading], float]:
    return lambda r: _capped(r.normalized.emoji.count(name), 2)


def _cue(name: str) -> Callable[[Reading], float]:
    return lambda r: 1.0 if name in r.cue_spans else 0.0


# Word groups of generic service language (not one shop's vocabulary): how many of a group's
# words a message holds, capped at 3, is one signal each.
LEXICONS = {
    "anger": r"垃圾|骗子|骗人|什么态度|坑人|坑爹|气死|恶心|无语|滚|他妈|妈的|傻逼|操|太差|凭什么|欺骗|忽悠|离谱|过分|"
    r"搞什么|糊弄|敷衍|黑店|奸商|退钱|有病|脑子|废物|不要脸|良心|逼|破|烂|差劲|受够|忍|算什么|还有脸|到底",
    "worry": r"急|着急|怎么办|担心|害怕|怕|万一|赶紧|快点|尽快|来不及|要紧|吓|慌|焦虑|不安|等着用|马上",
    "disappointment": r"失望|唉|哎|无奈|算了|可惜|遗憾|难过|后悔|心寒|本来|伤心|郁闷|无力|白买|还以为|没想到|不太|有点",
    "thanks": r"谢谢|感谢|多谢|辛苦|麻烦了|谢了",
    # 快 praises speed (发货很快) but not in 快递, 快点, 尽快, 快要, 快没电; 牛 not in 牛奶, 牛肉.
    "praise": r"好评|满意|点赞|给力|不错|很好|太好了|喜欢|棒|推荐给|回购|超值|惊喜|表扬|专业|耐心|贴心|好用|舒服|完美|赞|神|"
    r"牛(?![奶肉排腩])|厉害|(?<![尽赶加])快(?![递件运点些要去没到])|开心",
    "question": r"吗|么|怎么|如何|什么|哪|多少|多久|几|是否|能不能|可不可以|可以.{0,6}吗|有没有|请问|\?|呢",
    "polite_ask": r"请问|想问|咨询|问一下|想了解|想知道|麻烦问",
    "failure": r"没收到|还没|没到|坏了|破损|不能用|用不了|不行|故障|坏|一直|没人|不回|少了|错了|发错|不一样|假货|假的|过期|漏|"
    r"扣了|没退|不退|拒绝|不给|失败|卡住|投诉|不符|差评|又|居然|竟然|结果",
    # Still not done what was due: not yet arrived, shipped, refunded, installed, answered
    # (还没到, 一直没发货, 迟迟不到, 至今未退, 还没有人回复, 仲未到; traditional is simplified first).
    "overdue": r"(?:还|仍然?|依然|一直|始终|至今|到现在|仲|都|还是)(?:都|也|还)?(?:没|未|不|冇)(?:有人|有|见|能|人)?"
    r"(?:到|收到|送|发|寄|回|覆|退|处理|安排|上门|装|开通|修|联系|打|给|动|消息|结果|下文|反应|解决|好|来|派|接|通|审|出)|"
    r"迟迟|石沉大海|杳无音讯|音讯全无|没(?:有)?下文|没(?:有)?动静|(?:没|无|冇)人(?:回|覆|理|管|接|处理|联系|跟进|来|嚟)",
    "suggestion": r"建议|希望|可以考虑|最好能|如果能|要是能|能不能.{0,10}(?:一点|些)|应该|改进|增加|加个|出个|提个",
    "chitchat": r"^(?:你好|您好|在吗|在不在|好的|嗯+|哦+|晚安|早安|哈+|hello|hi|ok|收到|谢谢|不用了)",
    "negation": r"不|没|别|未|无",
    "waiting": r"\d+天|几天|一周|两周|半个月|一个月|好几天|多久|小时|分钟",
    "money": r"钱|元|块|退款|扣费|费用|价|优惠|券|发票|积分",
    "delivery": r"快递|物流|发货|配送|送货|签收|包裹|运费|驿站|顺丰|中通|单号|派送|到货",
    "product": r"尺码|尺寸|颜色|型号|规格|材质|有货|库存|适合|推荐|参数|区别|兼容|功能|怎么用|保质期",
    "returns": r"退货|退款|换货|退换|退回|寄回|售后|无理由",
    "account": r"账号|账户|密码|登录|会员|积分|注销|手机号|绑定|短信|隐私|信息",
    "staff": r"客服|人工|态度|专员|回复|机器人|转接|师傅|小哥|工作人员|电话",
    "order": r"订单|下单|付款|支付|取消|改地址|修改|拍错|分期",
}
_LEXICONS = {name: re.compile(pattern) for name, pattern in LEXICONS.items()}

# What a message is about, in words every industry kefu serves uses (shops, food delivery,
# telecom, banks and insurers, travel, education and software, utilities and property): the
# thing failing, money charged, money back, a transaction, an identity, people, goods moving,
# a question before buying. The category head reads these instead of the shop's word groups.
TOPICS = {
    "fault": r"故障|坏了|坏掉|不能用|用不了|没法用|无法使用|不好用|没信号|信号差|断网|掉线|网速|网络差|上不了网|卡顿|卡死|"
    r"闪退|崩溃|打不开|进不去|黑屏|死机|报错|bug|停水|停电|停气|没暖气|不供暖|水压|跳闸|漏水|渗水|异味|变质|馊|没熟|夹生|"
    r"生的|异物|头发|虫|不新鲜|发霉|破损|碎了|质量|做工|瑕疵|次品|假货|货不对板|与描述不符|和描述不|不符|缩水|脏|"
    r"设施|空调|热水|隔音|噪音|画质|音质|清晰度|延迟高|不稳定|失灵|不灵|故障码|不亮|不转|不制冷|不加热",
    "fee": r"扣费|收费|费用|年费|月租|月费|保费|手续费|违约金|滞纳金|利息|账单|话费|流量费|套餐费|多扣|扣了|乱收费|"
    r"自动续费|自动续订|续费|扣款|盗刷|价格|价钱|贵|差价|优惠|券|发票|物业费|水费|电费|燃气费|服务费|附加费|"
    r"会员费|订阅费|押金|罚款|计费|收了|多收|溢价|涨价|降价|报价|资费|额外",
    "refund": r"退款|退票|退保|退订|退费|退钱|退回|退货|换货|退还|退给|退到|钱退|返还|赔付|赔偿|补偿|理赔款|原路",
    "transaction": r"订单|预订|预定|订票|订房|改签|改期|下单|支付|付款|转账|汇款|缴费|充值|到账|入账|办理|变更|"
    r"套餐变更|携号转网|销户|取消|过户|迁移|开通|续约|报名|选课|预约|挂号|出票|值机|选座|未到账|没到账|交易",
    "identity": r"账号|账户|帐号|帐户|密码|登录|登陆|验证码|实名|身份证|证件|人脸|刷脸|冻结|锁定|封号|解封|绑定|解绑|"
    r"手机号|银行卡|信用卡|额度|会员|积分|注销|个人信息|隐私|盗号|被盗|实名认证|认证|sim|补卡|开户|征信",
    "people": r"态度|客服|工作人员|员工|师傅|导游|司机|骑手|外卖员|快递员|老师|辅导员|柜员|营业厅|前台|经理|保安|"
    r"物业|管家|维修工|装维|不理|没人|不回复|不回|踢皮球|推来推去|转接|排队|等了半天|敷衍|推诿|爱答不理|凶|骂|"
    r"不耐烦|专业|服务差|服务态度|人工",
    "moving": r"快递|物流|配送|送达|送餐|派送|配送员|延误|超时|迟到|晚到|送到|送错|行李|托运|包裹|签收|揽收|"
    r"发货|到货|运输|在途|中转|丢件|丢失|漏送|少送|洒了|撒了|路上",
    "presale": r"请问|想了解|咨询|想问|问一下|有没有|是否支持|支不支持|能不能|可不可以|怎么选|推荐|区别|适合|介绍|"
    r"收费标准|多少钱|怎么收费|需要什么|要带|怎么办理|流程|条件|规则|政策|多久|几天",
}
_TOPICS = {name: re.compile(pattern) for name, pattern in TOPICS.items()}


def _words(pattern: re.Pattern[str]) -> Callable[[Reading], float]:
    """How many of a word group's words a message holds, capped at 3, in [0, 1]."""
    findall = pattern.findall
    return lambda r: min(len(findall(r.text)), 3) / 3


_RATING_HIGH = re.compile(r"[四五45]颗?星(?!期|级)|满分")
_RATING_LOW = re.compile(r"(?<![零十])[一二两12]颗?星(?!期|级)|零分|一分都不想给")


def _rule(risk: Risk) -> Callable[[Reading], float]:
    return lambda r: 1.0 if any(hit.risk == risk for hit in r.risks) else 0.0


SIGNALS: dict[str, Callable[[Reading], float]] = {
    **{f"lex_{name}": _words(pattern) for name, pattern in _LEXICONS.items()},
    **{f"topic_{name}": _words(pattern) for name, pattern in _TOPICS.items()},
    "emoji_angry": _emoji("angry"),
    "emoji_sad": _emoji("sad"),
    "emoji_anxious": _emoji("anxious"),
    "emoji_pleading": _emoji("pleading"),
    "emoji_contempt": _emoji("contempt"),
    "emoji_positive": _emoji("positive"),
    "intensity": lambda r: _capped(r.normalized.intensity),
    "exclamations": lambda r: _capped(r.normalized.exclamation_runs, 2),
    "questions": lambda r: _capped(r.normalized.question_runs, 2),
    "shouted": lambda r: _capped(r.normalized.shouted_words, 2),
    "traditional": lambda r: float(r.normalized.traditional),
    "log_length": lambda r: min(math.log1p(len(r.text)) / 5.0, 1.5),
    "short": lambda r: float(len(r.text) <= 6),
    "risk": lambda r: 1.0 if r.risks else 0.0,
    **{f"rule_{risk.value}": _rule(risk) for risk in Risk},
    "risk_count": lambda r: _capped(len(r.risks)),
    "money_lost": _cue("money_lost"),
    "repeat_contact": _cue("repeat_contact"),
    "deadline": _cue("deadline"),
    # A review's rating (normalize.py says ★★★★★ as 五星): high stars praise, low ones complain.
    "rating_high": lambda r: float(_RATING_HIGH.search(r.text) is not None),
    "rating_low": lambda r: float(_RATING_LOW.search(r.text) is not None),
    "ends_asking": lambda r: float(r.text.rstrip().endswith(("?", "吗", "呢"))),
    "exclaims": lambda r: float("!" in r.text),
}


def signal_values(reading: Reading, names: tuple[str, ...]) -> dict[str, float]:
    return {name: SIGNALS[name](reading) for name in names}


def signal_matrix(readings: list[Reading], names: tuple[str, ...]) -> np.ndarray:
    functions = [SIGNALS[name] for name in names]
    return np.array([[f(r) for f in functions] for r in readings], np.float32).reshape(
        len(readings), len(names)
    )
