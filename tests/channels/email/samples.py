"""N varied real-world-shaped mails, generated (seeded, repeatable): for the parser benchmark
(benchmarks/mail_parse.py) and for tests that need many mails.

Shapes, in the proportions a Chinese support mailbox sees them: Foxmail/QQ (GB2312 labels,
base64 alternatives, 原始邮件 quotes), Outlook (UTF-8 quoted-printable, header-block quotes,
RFC 2231 attachments), NetEase 163 (GBK quoted-printable, encoded-word attachment names),
Apple Mail (related inline image), Gmail (HTML with a tracking pixel), Big5 plain text,
mislabelled charsets, HTML-only form mailers, out-of-office replies and bounces. Bodies are
a few sentences to a few paragraphs; one mail in ten has an attachment of 20-200 KB.
"""

from __future__ import annotations

import base64
import quopri
import random
from collections.abc import Callable

NAMES = [
    "王小明",
    "李娜",
    "张伟",
    "刘芳",
    "陈静",
    "杨洋",
    "赵强",
    "黄丽",
    "周杰",
    "吴敏",
    "欧阳娜娜",
]
TRAD_NAMES = ["陳怡君", "林志明", "黃美玲", "張家豪"]
SUBJECTS = [
    "订单还没发货",
    "申请退款",
    "收到的商品有破损",
    "发票开错了",
    "会员积分没到账",
    "优惠券用不了",
    "物流一直没更新",
    "想换个颜色",
    "投诉客服态度",
    "商品与描述不符",
]
TRAD_SUBJECTS = ["訂單還沒出貨", "申請退款", "藍牙耳機保固問題", "發票開錯了"]
SENTENCES = [
    "您好，我上周五在你们店里下的订单，到现在还没有发货。",
    "订单号是 SO2026{n:06d}，麻烦帮我查一下。",
    "收到的杯子有裂缝，包装也是破的，照片在附件里。",
    "我已经申请退款三天了，状态一直是处理中，请问什么时候能到账？",
    "发票抬头写错了，应该是某某科技有限公司，税号 91110000MA0{n:05d}。",
    "客服电话一直打不通，只好发邮件。",
    "如果今天还不处理，我就去消费者协会投诉。",
    "谢谢，辛苦了！",
    "另外想问一下，这款耳机支持降噪吗？续航大概多久？",
    "快递显示已签收，但是我根本没有收到，门卫那里也没有。",
]
TRAD_SENTENCES = [
    "您好，我在貴公司網站購買的商品到現在還沒有收到。",
    "請問保固期內可以免費維修嗎？",
    "麻煩盡快處理，謝謝您的幫忙。",
    "訂單編號是 TW2026{n:06d}。",
]
# What Outlook puts in the head of every HTML mail (fonts and Word styles): most of its size.
OUTLOOK_STYLE = (
    "<!--\n"
    + "".join(
        f'@font-face {{font-family:"{font}"; panose-1:2 1 6 0 3 1 1 1 1 1;}}\n'
        for font in (
            "等线",
            "Cambria Math",
            "微软雅黑",
            "宋体",
            "Calibri",
            "Segoe UI",
            "@等线",
            "@微软雅黑",
        )
    )
    + "".join(
        f"{selector} {{margin:0cm; font-size:10.5pt; font-family:等线; mso-style-priority:99;"
        f" color:windowtext; text-decoration:none; mso-fareast-language:ZH-CN;}}\n"
        for selector in (
            "p.MsoNormal, li.MsoNormal, div.MsoNormal",
            "a:link, span.MsoHyperlink",
            "a:visited",
            "span.EmailStyle17",
            "span.EmailStyle18",
            ".MsoChpDefault",
            "p.MsoListParagraph",
            "div.WordSection1",
            "p.msonormal0",
            "span.apple-converted-space",
        )
    )
    + "@page WordSection1 {size:612.0pt 792.0pt; margin:72.0pt 90.0pt 72.0pt 90.0pt;}\n-->"
)
QUOTE_OLD = "您好，您的订单已经发货，快递单号 SF10{n:08d}，请注意查收。"


def make_mails(count: int, *, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    shapes: list[tuple[Callable[[random.Random, int], bytes], int]] = [
        (_foxmail, 26),
        (_outlook, 18),
        (_netease, 14),
        (_apple, 10),
        (_gmail, 10),
        (_big5, 6),
        (_mislabelled, 6),
        (_html_only, 5),
        (_out_of_office, 3),
        (_bounce, 2),
    ]
    makers = [maker for maker, _ in shapes]
    weights = [weight for _, weight in shapes]
    return [rng.choices(makers, weights)[0](rng, n) for n in range(count)]


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _qp(data: bytes) -> bytes:
    return quopri.encodestring(data.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")


def _word(text: str, charset: str) -> bytes:
    return b"=?" + charset.encode() + b"?B?" + base64.b64encode(text.encode(charset)) + b"?="


def _lines(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def _body(rng: random.Random, n: int, sentences: list[str] = SENTENCES) -> str:
    paragraphs = [
        "".join(
            s.format(n=n) for s in rng.sample(sentences, rng.randint(1, min(3, len(sentences))))
        )
        for _ in range(rng.randint(1, 4))
    ]
    return "\n\n".join(paragraphs)


def _attachment(rng: random.Random, boundary: str, name: str, charset: str = "utf-8") -> bytes:
    if rng.random() > 0.1:
        return b""
    data = rng.randbytes(rng.randint(20_000, 200_000))
    return (
        _lines(f'--{boundary}\nContent-Type: application/pdf; name="')
        + _word(name, charset)
        + _lines(
            '"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="'
        )
        + _word(name, charset)
        + b'"\r\n\r\n'
        + _b64(data)
    )


def _head(rng: random.Random, n: int, sender: bytes, subject: bytes, extra: str = "") -> bytes:
    return (
        _lines(
            f"Received: from mx{n % 9}.example.test ([10.0.{n % 250}.{n % 200}])\n\tby mx.shop.test (Postfix)"
            f" with ESMTPS id {n:010X}\n\tfor <kf@shop.test>; Tue,  1 Dec 2026 10:{n % 60:02d}:31 +0800 (CST)\n"
        )
        + b"From: "
        + sender
        + b"\r\nTo: kf@shop.test\r\nSubject: "
        + subject
        + _lines(
            f"\nDate: Tue, 1 Dec 2026 10:{n % 60:02d}:{rng.randint(0, 59):02d} +0800\n"
            f"Message-ID: <m{n}.{rng.getrandbits(40):x}@example.test>\nMIME-Version: 1.0\n{extra}"
        )
    )


def _foxmail(rng: random.Random, n: int) -> bytes:
    name = rng.choice(NAMES)
    text = (
        _body(rng, n)
        + '\n\n------------------ 原始邮件 ------------------\n发件人: "小店客服"<kf@shop.test>;\n'
        + '发送时间: 2026年11月30日(星期一) 下午3:15\n收件人: "客户"<c@qq.com>;\n主题: 订单\n\n'
        + QUOTE_OLD.format(n=n)
    )
    html = '<meta http-equiv="Content-Type" content="text/html; charset=GB2312">' + "".join(
        f'<div style="font-family: 微软雅黑, Tahoma; font-size: 14px; line-height: 1.5">{line or "<br>"}</div>'
        for line in text.split("\n")
    )
    boundary = f"----=_NextPart_{n:08X}_0B3C5D70"
    return (
        _head(
            rng,
            n,
            b'"' + _word(name, "gb2312") + b'" <user' + str(n).encode() + b"@qq.com>",
            _word("回复：" + rng.choice(SUBJECTS) + f" [#{n}]", "gb2312"),
            f"In-Reply-To: <kefu.kefu-{n}-aa@shop.test>\nX-Mailer: QQMail 2.x\n"
            f'Content-Type: multipart/alternative;\n\tboundary="{boundary}"\n\n',
        )
        + _lines(
            f'--{boundary}\nContent-Type: text/plain;\n\tcharset="gb2312"\nContent-Transfer-Encoding: base64\n\n'
        )
        + _b64(text.replace("\n", "\r\n").encode("gb18030"))
        + _lines(
            f'\n--{boundary}\nContent-Type: text/html;\n\tcharset="gb2312"\nContent-Transfer-Encoding: base64\n\n'
        )
        + _b64(html.encode("gb18030"))
        + _lines(f"\n--{boundary}--\n")
    )


def _outlook(rng: random.Random, n: int) -> bytes:
    name = rng.choice(NAMES)
    text = (
        _body(rng, n)
        + f"\n\n{name}\n\n________________________________\n发件人: 小店客服 <kf@shop.test>\n"
        + "发送时间: 2026年11月30日 15:15\n收件人: 客户\n主题: 订单\n\n"
        + QUOTE_OLD.format(n=n)
    )
    html = (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">'
        '<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<meta name="Generator" content="Microsoft Word 15 (filtered medium)">'
        f"<style>{OUTLOOK_STYLE}</style></head>"
        '<body lang="ZH-CN" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">'
        '<div class="WordSection1">'
        + "".join(
            f'<p class="MsoNormal"><span style="font-size:10.5pt;font-family:等线">{line or "&nbsp;"}'
            "<o:p></o:p></span></p>"
            for line in text.split("\n")
        )
        + "</div></body></html>"
    )
    outer, inner = f"_004_TY2PR{n:06d}_", f"_000_TY2PR{n:06d}_"
    return (
        _head(
            rng,
            n,
            _word(name, "utf-8") + f" <user{n}@corp.test>".encode(),
            _word("答复: " + rng.choice(SUBJECTS), "utf-8"),
            f'Thread-Index: AQHbQ2x1c2VydmljZQ==\nContent-Type: multipart/mixed;\n\tboundary="{outer}"\n\n',
        )
        + _lines(f'--{outer}\nContent-Type: multipart/alternative;\n\tboundary="{inner}"\n\n')
        + _lines(
            f'--{inner}\nContent-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
        )
        + _qp(text.encode())
        + _lines(
            f'\n--{inner}\nContent-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
        )
        + _qp(html.encode())
        + _lines(f"\n--{inner}--\n\n")
        + _attachment(rng, outer, "发票.pdf")
        + _lines(f"\n--{outer}--\n")
    )


def _netease(rng: random.Random, n: int) -> bytes:
    text = _body(rng, n) + "\n\n发自网易邮箱大师"
    boundary = f"----=_Part_{n}_1137406337.1732799111507"
    return (
        _head(
            rng,
            n,
            _word(rng.choice(NAMES), "GBK") + f" <user{n}@163.com>".encode(),
            _word(rng.choice(SUBJECTS), "GBK"),
            f'X-Mailer: Coremail Webmail Server\nContent-Type: multipart/mixed; \n\tboundary="{boundary}"\n\n',
        )
        + _lines(
            f"--{boundary}\nContent-Type: text/plain; charset=GBK\nContent-Transfer-Encoding: quoted-printable\n\n"
        )
        + _qp(text.replace("\n", "\r\n").encode("gbk"))
        + b"\r\n"
        + _attachment(rng, boundary, "照片.jpg", "GBK")
        + _lines(f"\n--{boundary}--\n")
    )


def _apple(rng: random.Random, n: int) -> bytes:
    text = (
        _body(rng, n)
        + "\n\n发自我的iPhone\n\n> 在 2026年12月1日，上午10:20，小店客服 <kf@shop.test> 写道：\n> \n> 请问您遇到了什么问题？"
    )
    outer, inner, cid = f"Apple-Mail-{n:08d}-A", f"Apple-Mail-{n:08d}-B", f"IMG{n}@apple.test"
    html = (
        f'<html><body dir="auto"><div>{_body(rng, n)}</div><div><img src="cid:{cid}" alt="IMG.png"></div>'
        '<div>发自我的iPhone</div><blockquote type="cite">请问您遇到了什么问题？</blockquote></body></html>'
    )
    image = rng.randbytes(rng.randint(2_000, 30_000))
    return (
        _head(
            rng,
            n,
            _word(rng.choice(NAMES), "utf-8") + f" <user{n}@icloud.com>".encode(),
            _word("Re: " + rng.choice(SUBJECTS), "utf-8"),
            f"X-Mailer: iPhone Mail (21F90)\nContent-Type: multipart/alternative; boundary={outer}\n\n",
        )
        + _lines(
            f"--{outer}\nContent-Type: text/plain;\n\tcharset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        )
        + _b64(text.encode())
        + _lines(
            f'\n--{outer}\nContent-Type: multipart/related;\n\ttype="text/html";\n\tboundary={inner}\n\n'
        )
        + _lines(
            f"--{inner}\nContent-Type: text/html;\n\tcharset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        )
        + _qp(html.encode())
        + _lines(
            f"\n--{inner}\nContent-Type: image/png;\n\tname=IMG.png\nContent-Disposition: inline;\n\tfilename=IMG.png\n"
            f"Content-Transfer-Encoding: base64\nContent-Id: <{cid}>\n\n"
        )
        + _b64(image)
        + _lines(f"\n--{inner}--\n\n--{outer}--\n")
    )


def _gmail(rng: random.Random, n: int) -> bytes:
    body = _body(rng, n)
    text = (
        body
        + "\n\nOn Tue, Dec 1, 2026 at 10:20 AM Shop Support <support@shop.test>\nwrote:\n\n> "
        + QUOTE_OLD.format(n=n)
    )
    html = (
        f'<div dir="ltr">{body}<img src="https://mailtrack.example/open?u={n}" width="1" height="1"></div>'
        '<div class="gmail_quote"><div class="gmail_attr">On Tue, Dec 1, 2026 at 10:20 AM Shop Support &lt;support@shop.test&gt;<br>wrote:</div>'
        f'<blockquote class="gmail_quote">{QUOTE_OLD.format(n=n)}</blockquote></div>'
    )
    boundary = f"0000000000{n:016x}"
    return (
        _head(
            rng,
            n,
            f"User {n} <user{n}@gmail.com>".encode(),
            _word("Re: " + rng.choice(SUBJECTS), "utf-8"),
            f'Content-Type: multipart/alternative; boundary="{boundary}"\n\n',
        )
        + _lines(
            f'--{boundary}\nContent-Type: text/plain; charset="UTF-8"\nContent-Transfer-Encoding: base64\n\n'
        )
        + _b64(text.encode())
        + _lines(
            f'\n--{boundary}\nContent-Type: text/html; charset="UTF-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
        )
        + _qp(html.encode())
        + _lines(f"\n--{boundary}--\n")
    )


def _big5(rng: random.Random, n: int) -> bytes:
    return _head(
        rng,
        n,
        _word(rng.choice(TRAD_NAMES), "big5") + f" <user{n}@hinet.test>".encode(),
        _word(rng.choice(TRAD_SUBJECTS), "big5"),
        "Content-Type: text/plain; charset=big5\nContent-Transfer-Encoding: 8bit\n\n",
    ) + _body(rng, n, TRAD_SENTENCES).replace("\n", "\r\n").encode("big5")


def _mislabelled(rng: random.Random, n: int) -> bytes:
    codec = rng.choice(["gbk", "utf-8"])
    return _head(
        rng,
        n,
        f"user{n}@example.test".encode(),
        rng.choice(SUBJECTS).encode(codec),  # raw 8-bit subject
        "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n",
    ) + _body(rng, n).replace("\n", "\r\n").encode(codec)


def _html_only(rng: random.Random, n: int) -> bytes:
    html = (
        "<!DOCTYPE html><html><head><title>留言</title><style>body{color:#333}</style></head><body>"
        f"<h2>新的留言</h2><p>订单号：<b>SO{n:08d}</b></p><p>{_body(rng, n)}</p>"
        f'<img src="https://track.example/p.gif?id={n}" width="1" height="1">'
        "<table><tr><td>电话</td><td>138****5678</td></tr></table></body></html>"
    )
    return _head(
        rng,
        n,
        b"noreply@shop-system.test",
        _word("新的留言：" + rng.choice(SUBJECTS), "utf-8"),
        "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n",
    ) + _qp(html.encode())


def _out_of_office(rng: random.Random, n: int) -> bytes:
    return _head(
        rng,
        n,
        f"Staff {n} <staff{n}@corp.test>".encode(),
        _word("自动回复: " + rng.choice(SUBJECTS), "utf-8"),
        "Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n",
    ) + _b64("我本周休假，期间不回复邮件。紧急事务请联系王经理。".encode())


def _bounce(rng: random.Random, n: int) -> bytes:
    boundary = f"B{n:08X}.1733022003/mx.customer.test"
    return _head(
        rng,
        n,
        b"MAILER-DAEMON@mx.customer.test (Mail Delivery System)",
        b"Undelivered Mail Returned to Sender",
        f'Return-Path: <>\nContent-Type: multipart/report; report-type=delivery-status;\n\tboundary="{boundary}"\n\n',
    ) + _lines(
        f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n\nYour message could not be delivered.\n\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.customer.test\n\n"
        f"Final-Recipient: rfc822; nobody{n}@customer.test\nAction: failed\nStatus: 5.1.1\n\n"
        f"--{boundary}\nContent-Type: message/rfc822\n\nFrom: kf@shop.test\nTo: nobody{n}@customer.test\n"
        f"Subject: Re: order\nMessage-ID: <kefu.kefu-{n}-ab@shop.test>\n\nYour order shipped.\n\n--{boundary}--\n"
    )
