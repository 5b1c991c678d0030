"""Writes the .eml files of corpus/ (run: python -m tests.channels.email.make_corpus). Each mail
has the shape a real client or server gives it (headers, boundaries, encodings, quoting); the
people, addresses and ids are made up."""

from __future__ import annotations

import base64
import quopri
import sys
from pathlib import Path


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def qp(data: bytes) -> bytes:
    return quopri.encodestring(data.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")


def ew(text: str, charset: str, enc: str = "B") -> bytes:
    data = text.encode(charset)
    if enc == "B":
        return b"=?" + charset.encode() + b"?B?" + base64.b64encode(data) + b"?="
    return (
        b"=?"
        + charset.encode()
        + b"?Q?"
        + quopri.encodestring(data, header=True).replace(b"=\n", b"")
        + b"?="
    )


def crlf(s: str) -> bytes:
    return s.replace("\n", "\r\n").encode("utf-8")


def write(out: Path, name: str, parts: list[bytes]) -> None:
    (out / name).write_bytes(b"".join(parts))


def write_corpus(out: Path) -> None:
    # 1. Foxmail / QQ: GB2312 labels carrying GBK characters (喆, 镕), 原始邮件 quote.
    plain = (
        "您好，\r\n\r\n我是陶喆的粉丝，订单 20261130001 的演唱会门票还没有收到，朱镕基传记也少了一本。\r\n请尽快处理，谢谢！\r\n\r\n"
        "------------------&nbsp;原始邮件&nbsp;------------------\r\n".replace("&nbsp;", " ")
        + '发件人: "小店客服"<kf@shop.test>;\r\n发送时间: 2026年11月30日(星期一) 下午3:15\r\n收件人: "王小明"<wangxm@qq.com>;\r\n主题: 您的订单已发货 [#123]\r\n\r\n您好，您的订单已发货。\r\n'
    )
    html = (
        "<div>您好，</div><div><br></div><div>我是陶喆的粉丝，订单 20261130001 的演唱会门票还没有收到，朱镕基传记也少了一本。</div>"
        '<div>请尽快处理，谢谢！</div><div><br></div><div style="font:Verdana normal 14px;color:#000;">'
        '<div style="FONT-SIZE: 12px;FONT-FAMILY: Arial Narrow;padding:2px 0 2px 0;">------------------&nbsp;原始邮件&nbsp;------------------</div>'
        '<div style="FONT-SIZE: 12px;background:#efefef;padding:8px;"><div><b>发件人:</b>&nbsp;"小店客服"&lt;kf@shop.test&gt;;</div>'
        '<div><b>发送时间:</b>&nbsp;2026年11月30日(星期一) 下午3:15</div><div><b>收件人:</b>&nbsp;"王小明"&lt;wangxm@qq.com&gt;;</div>'
        "<div><b>主题:</b>&nbsp;您的订单已发货 [#123]</div></div><div><br></div>您好，您的订单已发货。</div>"
    )
    write(
        out,
        "foxmail_gb2312_reply.eml",
        [
            crlf(
                "Return-Path: <wangxm@qq.com>\nReceived: from smtpbg.qq.com (smtpbg.qq.com [203.205.250.1])\n\tby mx.shop.test (Postfix) with ESMTPS id 4F1A2B3C4D\n\tfor <kf@shop.test>; Tue,  1 Dec 2026 10:20:31 +0800 (CST)\n"
            ),
            b'From: "' + ew("王小明", "gb2312") + b'" <WangXM@QQ.com>\r\n',
            b'To: "' + ew("小店客服", "gb2312") + b'" <kf@shop.test>\r\n',
            b"Subject: " + ew("回复：您的订单已发货 [#123]", "gb2312") + b"\r\n",
            crlf(
                'Mime-Version: 1.0\nContent-Type: multipart/alternative;\n\tboundary="----=_NextPart_6568E3A1_0B3C5D70_2F1A7E31"\nContent-Transfer-Encoding: 8Bit\n'
                "Date: Tue, 1 Dec 2026 10:20:26 +0800\nX-Priority: 3\nMessage-ID: <tencent_4B6F0A3C9E2D1F8A7B6C5D4E3F2A1B0C9D08@qq.com>\n"
                "X-QQ-MIME: TCMime 1.0 by Tencent\nX-Mailer: QQMail 2.x\nX-QQ-Mailer: QQMail 2.x\n"
                "In-Reply-To: <kefu.kefu-88-1a2b3c4d@shop.test>\nReferences: <CAF1root@shop.test>\n\t<kefu.kefu-88-1a2b3c4d@shop.test>\n\n"
                "This is a multi-part message in MIME format.\n\n------=_NextPart_6568E3A1_0B3C5D70_2F1A7E31\n"
                'Content-Type: text/plain;\n\tcharset="gb2312"\nContent-Transfer-Encoding: base64\n\n'
            ),
            b64(plain.encode("gb18030")),
            crlf(
                '\n------=_NextPart_6568E3A1_0B3C5D70_2F1A7E31\nContent-Type: text/html;\n\tcharset="gb2312"\nContent-Transfer-Encoding: base64\n\n'
            ),
            b64(html.encode("gb18030")),
            crlf("\n------=_NextPart_6568E3A1_0B3C5D70_2F1A7E31--\n\n"),
        ],
    )

    # 2. Outlook (Chinese): UTF-8 quoted-printable, header block quote, RFC 2231 attachment name.
    plain2 = (
        "王经理您好：\r\n\r\n附件是上个月的发票，金额和合同不一致，麻烦核对一下。\r\n\r\n李娜\r\n采购部\r\n\r\n"
        "________________________________\r\n发件人: 小店客服 <kf@shop.test>\r\n发送时间: 2026年11月30日 15:15\r\n"
        "收件人: 李娜 <li.na@corp.test>\r\n主题: 关于发票 [#456]\r\n\r\n李女士您好，发票已开具。\r\n"
    )
    html2 = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><style>p.MsoNormal{margin:0}</style></head>'
        '<body lang="ZH-CN"><div class="WordSection1"><p class="MsoNormal">王经理您好：</p><p class="MsoNormal">附件是上个月的发票，金额和合同不一致，麻烦核对一下。</p>'
        '<p class="MsoNormal">李娜<br>采购部</p><div id="divRplyFwdMsg"><hr><b>发件人:</b> 小店客服 &lt;kf@shop.test&gt;<br><b>发送时间:</b> 2026年11月30日 15:15<br>'
        "<b>收件人:</b> 李娜 &lt;li.na@corp.test&gt;<br><b>主题:</b> 关于发票 [#456]</div><p>李女士您好，发票已开具。</p></div></body></html>"
    )
    write(
        out,
        "outlook_utf8_invoice.eml",
        [
            b"From: " + ew("李娜", "utf-8") + b" <Li.Na@corp.test>\r\n",
            crlf(
                'To: "kf@shop.test" <kf@shop.test>\nCC: wang.jl@corp.test, "Zhao, Lei" <zhao.lei@corp.test>\n'
            ),
            b"Subject: " + ew("答复: 关于发票 [#456]", "utf-8") + b"\r\n",
            crlf(
                "Thread-Topic: =?utf-8?B?5YWz5LqO5Y+R56Wo?=\nThread-Index: AQHbQ2x1c2VydmljZQ==\nDate: Mon, 30 Nov 2026 08:02:11 +0000\n"
                "Message-ID: <TY2PR01MB1234ABCD5678EF@TY2PR01MB1234.jpnprd01.prod.outlook.com>\n"
                "References: <kefu.kefu-91-aa@shop.test>\nIn-Reply-To: <kefu.kefu-91-aa@shop.test>\n"
                "Accept-Language: zh-CN, en-US\nContent-Language: zh-CN\nX-MS-Has-Attach: yes\nX-MS-TNEF-Correlator:\n"
                'Content-Type: multipart/mixed;\n\tboundary="_004_TY2PR01MB1234ABCD_"\nMIME-Version: 1.0\n\n'
                '--_004_TY2PR01MB1234ABCD_\nContent-Type: multipart/alternative;\n\tboundary="_000_TY2PR01MB1234ABCD_"\n\n'
                '--_000_TY2PR01MB1234ABCD_\nContent-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
            ),
            qp(plain2.encode("utf-8")),
            crlf(
                '\n--_000_TY2PR01MB1234ABCD_\nContent-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
            ),
            qp(html2.encode("utf-8")),
            crlf(
                '\n--_000_TY2PR01MB1234ABCD_--\n\n--_004_TY2PR01MB1234ABCD_\nContent-Type: application/pdf; name="=?utf-8?B?5Y+R56WoLnBkZg==?="\n'
                "Content-Description: =?utf-8?B?5Y+R56WoLnBkZg==?=\nContent-Disposition: attachment;\n\tfilename*=utf-8''%E5%8F%91%E7%A5%A8%E2%80%942026%E5%B9%B411%E6%9C%88.pdf;\n\tsize=64; creation-date=\"Mon, 30 Nov 2026 08:01:00 GMT\"\n"
                "Content-Transfer-Encoding: base64\n\n"
            ),
            b64(b"%PDF-1.4\n% kefu test invoice\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"),
            crlf("\n--_004_TY2PR01MB1234ABCD_--\n"),
        ],
    )

    # 3. NetEase 163: GBK quoted-printable, 发自网易邮箱大师, RFC 2047 attachment name in GBK.
    plain3 = "你好，收到的杯子碎了，照片在附件里。能换一个吗？\r\n\r\n发自网易邮箱大师\r\n---- 回复的原邮件 ----\r\n| 发件人 | 小店客服<kf@shop.test> |\r\n| 日期 | 2026年11月28日 09:00 |\r\n"
    write(
        out,
        "netease163_gbk_photo.eml",
        [
            crlf(
                "Received: from zhaoqiang$163.com ( [36.112.0.1] ) by ajax-webmail-wmsvr40 (Coremail) ; Sat, 28 Nov 2026 21:05:11 +0800 (CST)\n"
            ),
            crlf("Date: Sat, 28 Nov 2026 21:05:11 +0800 (CST)\n"),
            b"From: " + ew("赵强", "GBK") + b" <zhaoqiang@163.com>\r\n",
            crlf("To: kf@shop.test\n"),
            b"Subject: " + ew("杯子碎了，申请换货", "GBK") + b"\r\n",
            crlf(
                "X-Priority: 3\nX-Mailer: Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15)\n"
                'Content-Type: multipart/mixed; \n\tboundary="----=_Part_221391_1137406337.1732799111507"\nMIME-Version: 1.0\n'
                "Message-ID: <5d2f6e1a.6f3e.18c1a2b3c4d.Coremail.zhaoqiang@163.com>\nX-Coremail-Locale: zh_CN\n\n"
                "------=_Part_221391_1137406337.1732799111507\nContent-Type: text/plain; charset=GBK\nContent-Transfer-Encoding: quoted-printable\n\n"
            ),
            qp(plain3.encode("gbk")),
            crlf(
                '\n------=_Part_221391_1137406337.1732799111507\nContent-Type: image/jpeg; name="=?GBK?B?'
            ),
            base64.b64encode("破损照片.jpg".encode("gbk")),
            crlf(
                '?="\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="=?GBK?B?'
            ),
            base64.b64encode("破损照片.jpg".encode("gbk")),
            crlf('?="\n\n'),
            b64(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"),
            crlf("\n------=_Part_221391_1137406337.1732799111507--\n"),
        ],
    )

    # 4. Apple Mail from an iPhone: related inline image, 写道 quote over two lines.
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    plain4 = "屏幕截图在下面，付款的时候一直报错。\r\n\r\n发自我的iPhone\r\n\r\n> 在 2026年12月1日，上午10:20，小店客服 <kf@shop.test> 写道：\r\n> \r\n> 请问您遇到了什么问题？\r\n"
    html4 = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body dir="auto">'
        '<div dir="ltr">屏幕截图在下面，付款的时候一直报错。</div><div dir="ltr"><img src="cid:4A3B2C1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D" alt="IMG_1024.png"></div>'
        '<div dir="ltr"><br><div>发自我的iPhone</div><div><br><blockquote type="cite">在 2026年12月1日，上午10:20，小店客服 &lt;kf@shop.test&gt; 写道：<br><br></blockquote></div>'
        '<blockquote type="cite"><div dir="ltr">请问您遇到了什么问题？</div></blockquote></div></body></html>'
    )
    write(
        out,
        "apple_mail_inline_image.eml",
        [
            crlf(
                "Content-Type: multipart/alternative; boundary=Apple-Mail-7C1F2E3D-4B5A-6978-8A9B-0C1D2E3F4A5B\n"
                "Content-Transfer-Encoding: 7bit\nFrom: =?utf-8?B?5YiY6Iqz?= <liufang@icloud.com>\nMime-Version: 1.0 (1.0)\n"
                "Date: Tue, 1 Dec 2026 10:31:44 +0800\nSubject: =?utf-8?B?UmU6IOS7mOasvuWksei0pQ==?=\n"
                "Message-Id: <7D8E9F0A-1B2C-3D4E-5F6A-7B8C9D0E1F2A@icloud.com>\n"
                "References: <kefu.kefu-120-ff@shop.test>\nIn-Reply-To: <kefu.kefu-120-ff@shop.test>\nTo: kf@shop.test\n"
                "X-Mailer: iPhone Mail (21F90)\n\n\n--Apple-Mail-7C1F2E3D-4B5A-6978-8A9B-0C1D2E3F4A5B\n"
                "Content-Type: text/plain;\n\tcharset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            ),
            b64(plain4.encode("utf-8")),
            crlf(
                '\n--Apple-Mail-7C1F2E3D-4B5A-6978-8A9B-0C1D2E3F4A5B\nContent-Type: multipart/related;\n\ttype="text/html";\n\tboundary=Apple-Mail-9A8B7C6D-5E4F-3A2B-1C0D-9E8F7A6B5C4D\n'
                "Content-Transfer-Encoding: 7bit\n\n\n--Apple-Mail-9A8B7C6D-5E4F-3A2B-1C0D-9E8F7A6B5C4D\n"
                "Content-Type: text/html;\n\tcharset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
            ),
            qp(html4.encode("utf-8")),
            crlf(
                "\n--Apple-Mail-9A8B7C6D-5E4F-3A2B-1C0D-9E8F7A6B5C4D\nContent-Type: image/png;\n\tname=IMG_1024.png;\n\tx-apple-part-url=4A3B2C1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D\n"
                "Content-Disposition: inline;\n\tfilename=IMG_1024.png\nContent-Transfer-Encoding: base64\nContent-Id: <4A3B2C1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D>\n\n"
            ),
            b64(png),
            crlf(
                "\n--Apple-Mail-9A8B7C6D-5E4F-3A2B-1C0D-9E8F7A6B5C4D--\n\n--Apple-Mail-7C1F2E3D-4B5A-6978-8A9B-0C1D2E3F4A5B--\n"
            ),
        ],
    )

    # 5. Gmail: On ... wrote: over two lines, gmail_quote, a tracking pixel and a remote logo.
    plain5 = (
        "Hi, I still haven't received the refund for order #A1029. 退款还没到账。\r\n\r\n"
        "On Tue, Dec 1, 2026 at 10:20 AM Shop Support <support@shop.test>\r\nwrote:\r\n\r\n> Your refund was issued.\r\n>\r\n"
    )
    html5 = (
        '<div dir="ltr">Hi, I still haven\'t received the refund for order #A1029. 退款还没到账。'
        '<img src="https://mailtrack.example/open?u=77" width="1" height="1" alt="">'
        '</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Dec 1, 2026 at 10:20 AM Shop Support &lt;<a href="mailto:support@shop.test">support@shop.test</a>&gt;<br>wrote:<br></div>'
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex"><img src="http://shop.test/logo.png" alt="Shop logo"> Your refund was issued.<a href="javascript:alert(1)" onclick="steal()">x</a></blockquote></div>'
    )
    write(
        out,
        "gmail_utf8_tracking.eml",
        [
            crlf(
                "MIME-Version: 1.0\nDate: Wed, 2 Dec 2026 09:11:05 +0800\nReferences: <kefu.kefu-130-x1@shop.test>\nIn-Reply-To: <kefu.kefu-130-x1@shop.test>\n"
                "Message-ID: <CAJx7Lk2kq=Vb1+HsN0aQ8TtwYp@mail.gmail.com>\nSubject: Re: Your refund [#789]\n"
                "From: Mei Chen <mei.chen@gmail.com>\nTo: Shop Support <support@shop.test>\n"
                'Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f60718"\n\n'
                '--000000000000a1b2c3d4e5f60718\nContent-Type: text/plain; charset="UTF-8"\nContent-Transfer-Encoding: base64\n\n'
            ),
            b64(plain5.encode()),
            crlf(
                '\n--000000000000a1b2c3d4e5f60718\nContent-Type: text/html; charset="UTF-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
            ),
            qp(html5.encode()),
            crlf("\n--000000000000a1b2c3d4e5f60718--\n"),
        ],
    )

    # 6. Big5 body and subject (Taiwan), Chinese name in Big5 encoded words.
    body6 = "您好：\r\n\r\n我在貴公司網站購買的藍牙耳機，右耳沒有聲音。請問保固期內可以免費維修嗎？\r\n\r\n陳怡君 敬上\r\n"
    write(
        out,
        "big5_warranty.eml",
        [
            b"From: " + ew("陳怡君", "big5") + b" <yijun.chen@hinet.test>\r\n",
            crlf("To: kf@shop.test\n"),
            b"Subject: " + ew("藍牙耳機保固問題", "big5") + b"\r\n",
            crlf(
                "Date: Thu, 03 Dec 2026 14:02:09 +0800\nMessage-ID: <20261203140209.1234@hinet.test>\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=big5\nContent-Transfer-Encoding: 8bit\nX-Mailer: Microsoft Outlook 16.0\n\n"
            ),
            body6.encode("big5"),
        ],
    )

    # 7. Mislabelled: iso-8859-1 label on GBK bytes, and a raw 8-bit GBK subject.
    body7 = "客服你好，我的快递显示已签收，但是我根本没有收到，麻烦帮我查一下物流。\r\n"
    write(
        out,
        "mislabelled_latin1_gbk.eml",
        [
            crlf("From: zhou@example.test\nTo: kf@shop.test\n"),
            b"Subject: " + "快递显示已签收但没收到".encode("gbk") + b"\r\n",
            crlf(
                "Date: Fri, 4 Dec 2026 08:00:00 +0800\nMessage-ID: <mislabel-1@example.test>\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
            ),
            body7.encode("gbk"),
        ],
    )

    # 8. Mislabelled: gb2312 label on UTF-8 text (a web form mailer).
    body8 = "姓名：孙悦\r\n电话：138****5678\r\n留言：网页上的优惠券领不了，点了没反应。\r\n"
    write(
        out,
        "mislabelled_gb2312_utf8.eml",
        [
            crlf(
                "From: webform@shop.test\nReply-To: sunyue@example.test\nTo: kf@shop.test\n"
                "Subject: =?gb2312?B?"
            ),
            base64.b64encode("网站留言".encode("gb2312")),
            crlf(
                "?=\n"
                "Date: Fri, 4 Dec 2026 09:30:00 +0800\nMessage-ID: <form-778@shop.test>\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: base64\n\n"
            ),
            b64(body8.encode("utf-8")),
        ],
    )

    # 9. A broken base64 attachment between two good parts.
    write(
        out,
        "broken_base64_part.eml",
        [
            crlf(
                'From: "Liu Yang" <liuyang@example.test>\nTo: kf@shop.test\nSubject: =?utf-8?Q?=E5=90=88=E5=90=8C=E5=92=8C=E6=B8=85=E5=8D=95?=\n'
                "Date: Sat, 5 Dec 2026 11:00:00 +0800\nMessage-ID: <broken-b64@example.test>\nMIME-Version: 1.0\n"
                'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n'
            ),
            b64("合同和清单在附件。\r\n".encode()),
            crlf(
                '\n--b1\nContent-Type: application/pdf; name="contract.pdf"\nContent-Disposition: attachment; filename="contract.pdf"\n'
                "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK%%%JSBrZWZ1IGJy!!b2tlbgo=\nAAAA===\nQk\n"
                '\n--b1\nContent-Type: text/csv; charset=utf-8; name="list.csv"\nContent-Disposition: attachment; filename="list.csv"\n'
                "Content-Transfer-Encoding: base64\n\n"
            ),
            b64("商品,数量\r\n杯子,2\r\n".encode()),
            crlf("\n--b1--\n"),
        ],
    )

    # 10. A multipart whose closing boundary never comes (the mail was cut).
    write(
        out,
        "missing_boundary_end.eml",
        [
            crlf(
                "From: ma.li@example.test\nTo: kf@shop.test\nSubject: =?utf-8?B?5Y+R56Wo6K+35rGC?=\nDate: Sat, 5 Dec 2026 12:00:00 +0800\n"
                'Message-ID: <cut-1@example.test>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="cut"\n\n--cut\n'
                "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            ),
            "请帮我开一张增值税专用发票，公司信息见附件。\r\n".encode(),
            crlf(
                '\n--cut\nContent-Type: text/plain; charset=utf-8; name="公司信息.txt"\nContent-Disposition: attachment; filename="=?utf-8?B?'
            ),
            base64.b64encode("公司信息.txt".encode()),
            crlf('?="\nContent-Transfer-Encoding: base64\n\n'),
            b64("名称：某某科技有限公司\r\n税号：91110000XXXXXXXX\r\n".encode()),
        ],
    )

    # 11. No Date, no Message-ID, no Content-Type; raw UTF-8 subject and name.
    write(
        out,
        "no_date_no_id.eml",
        [
            "From: 小李 <xiaoli@example.test>\r\nTo: kf@shop.test\r\nSubject: 还在吗？订单怎么取消\r\n\r\n我想取消订单，怎么操作？\r\n".encode(),
        ],
    )

    # 12. Exchange out-of-office reply.
    write(
        out,
        "out_of_office_exchange.eml",
        [
            crlf("From: Zhang Min <zhang.min@corp.test>\nTo: kf@shop.test\n"),
            b"Subject: " + ew("自动回复: 关于发票 [#456]", "utf-8") + b"\r\n",
            crlf(
                "Date: Mon, 30 Nov 2026 08:05:00 +0000\nMessage-ID: <oof-1@corp.test>\nIn-Reply-To: <kefu.kefu-91-aa@shop.test>\n"
                "Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\nX-MS-Exchange-Inbox-Rules-Loop: zhang.min@corp.test\n"
                "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            ),
            b64(
                "我 12 月 1 日至 12 月 7 日休假，期间不回复邮件。紧急事务请联系王经理。\r\n".encode()
            ),
        ],
    )

    # 13. Postfix bounce: multipart/report with delivery-status and the original message.
    write(
        out,
        "bounce_postfix.eml",
        [
            crlf(
                "Return-Path: <>\nDate: Tue,  1 Dec 2026 11:00:03 +0800 (CST)\nFrom: MAILER-DAEMON@mx.customer.test (Mail Delivery System)\n"
                "Subject: Undelivered Mail Returned to Sender\nTo: kf@shop.test\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
                'Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="A1B2C3D4E5.1733022003/mx.customer.test"\n'
                "Message-Id: <20261201030003.A1B2C3D4E5@mx.customer.test>\n\nThis is a MIME-encapsulated message.\n\n"
                "--A1B2C3D4E5.1733022003/mx.customer.test\nContent-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n"
                "This is the mail system at host mx.customer.test.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n"
                "<nobody@customer.test>: host mx.customer.test said: 550 5.1.1 User unknown\n\n"
                "--A1B2C3D4E5.1733022003/mx.customer.test\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
                "Reporting-MTA: dns; mx.customer.test\nArrival-Date: Tue,  1 Dec 2026 11:00:02 +0800 (CST)\n\n"
                "Final-Recipient: rfc822; nobody@customer.test\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
                "--A1B2C3D4E5.1733022003/mx.customer.test\nContent-Description: Undelivered Message\nContent-Type: message/rfc822\n\n"
                "From: kf@shop.test\nTo: nobody@customer.test\nSubject: Re: order [#77]\nMessage-ID: <kefu.kefu-77-ab@shop.test>\nDate: Tue, 1 Dec 2026 11:00:00 +0800\n\nYour order shipped.\n\n"
                "--A1B2C3D4E5.1733022003/mx.customer.test--\n"
            ),
        ],
    )

    # 14. QQ's Chinese bounce ("系统退信") from postmaster.
    write(
        out,
        "bounce_qq_chinese.eml",
        [
            crlf('From: "postmaster" <PostMaster@qq.com>\nTo: kf@shop.test\n'),
            b"Subject: " + ew("系统退信", "gb2312") + b"\r\n",
            crlf(
                "Date: Tue, 1 Dec 2026 12:00:00 +0800\nMessage-ID: <bounce-qq-1@qq.com>\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: base64\n\n"
            ),
            b64("很抱歉您的邮件没有发送成功。收件人邮箱不存在。\r\n".encode("gb2312")),
        ],
    )

    # 15. Encoded words split in the middle of a character (UTF-8 and GBK), plus Q encoding.
    subject = "申请退款：商品与描述不符".encode()
    name = "欧阳娜娜".encode("gbk")
    write(
        out,
        "split_encoded_words.eml",
        [
            b"From: =?GBK?B?"
            + base64.b64encode(name[:3])
            + b"?= =?GBK?B?"
            + base64.b64encode(name[3:])
            + b"?= <oyn@example.test>\r\n",
            b"To: kf@shop.test\r\nSubject: =?UTF-8?B?"
            + base64.b64encode(subject[:7])
            + b"?=\r\n =?UTF-8?B?"
            + base64.b64encode(subject[7:20])
            + b"?=\r\n =?UTF-8?Q?"
            + quopri.encodestring(subject[20:], header=True)
            + b"?=\r\n",
            crlf(
                "Date: Sun, 6 Dec 2026 10:00:00 +0800\nMessage-ID: <split-1@example.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
            ),
            "收到的衣服颜色和图片差很多。\r\n".encode(),
        ],
    )

    # 16. HTML only (a shop system's mailer): scripts, handlers, remote images.
    html16 = (
        "<!DOCTYPE html><html><head><title>投诉</title><style>body{color:red}</style><script>document.cookie</script></head>"
        '<body onload="x()"><h2>用户投诉</h2><p>订单号：<b>SO20261206</b></p><p>内容：客服态度很差，<a href="https://shop.test/o/1">订单链接</a></p>'
        '<img src="https://track.example/pixel.gif?id=9" width="1" height="1"><img src="//cdn.example/banner.jpg" alt="活动横幅">'
        '<iframe src="https://evil.example"></iframe><ul><li>第一条</li><li>第二条</li></ul></body></html>'
    )
    write(
        out,
        "html_only_shop_form.eml",
        [
            crlf(
                "From: noreply@shop-system.test\nTo: kf@shop.test\nReply-To: angry.customer@example.test\n"
            ),
            b"Subject: " + ew("新的投诉：SO20261206", "utf-8") + b"\r\n",
            crlf(
                "Date: Sun, 6 Dec 2026 11:00:00 +0800\nMessage-ID: <form-html-1@shop-system.test>\nMIME-Version: 1.0\n"
                "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
            ),
            qp(html16.encode()),
        ],
    )

    # 17. A malformed part (no blank line after its headers, an unknown charset) between good ones.
    write(
        out,
        "malformed_part.eml",
        [
            crlf(
                "From: he.jun@example.test\nTo: kf@shop.test\nSubject: =?utf-8?B?5aSa5Liq6ZmE5Lu2?=\nDate: Sun, 6 Dec 2026 12:00:00 +0800\n"
                'Message-ID: <malformed-1@example.test>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="zz"\n\n'
                "--zz\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            ),
            "第一段：发票抬头写错了。\r\n".encode(),
            crlf(
                "--zz\nContent-Type: text/plain; charset=x-no-such-charset\nthis line is no header and there is no blank line\n"
            ),
            "第二段：请重开。\r\n".encode("gbk"),
            crlf(
                '--zz\nContent-Type: image/png\nContent-Disposition: attachment; filename="screen.png"\nContent-Transfer-Encoding: base64\n\n'
            ),
            b64(png),
            crlf("--zz--\n"),
        ],
    )


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "corpus"
    write_corpus(folder)
    sys.stdout.write(f"wrote {len(list(folder.glob('*.eml')))} mails to {folder}\n")
