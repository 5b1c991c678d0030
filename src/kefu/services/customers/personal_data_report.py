"""The export of a customer's personal data as a report the customer can read (Markdown, in
Chinese), written from the same data as the JSON (personal_data.collect)."""

from __future__ import annotations

from typing import Any

from kefu.sanitize import markdown_literal

_STATUS = {"new": "新建", "open": "处理中", "pending": "等待回复", "resolved": "已解决",
           "closed": "已关闭"}  # fmt: skip
_CHANNEL = {"email": "邮件", "wechat": "微信", "web": "网页", "webchat": "在线咨询",
            "phone": "电话", "sms": "短信", "api": "接口", "social": "社交媒体"}  # fmt: skip
_AUTHOR = {"customer": "您", "user": "客服", "bot": "智能助手", "system": "系统"}


def _cell(value: Any) -> str:
    """A value inside the report: no line breaks or table bars that would break its layout, no
    HTML or link a Markdown viewer would make of it (``markdown_literal``)."""
    if value is None or value == "":
        return "—"
    text = str(value).replace("\r", " ").replace("\n", " ").replace("|", "｜")
    return markdown_literal(text)


def _size(n: int) -> str:
    return f"{n} 字节" if n < 1024 else f"{n / 1024:.1f} KB"


def _time(value: str | None) -> str:
    return value.replace("T", " ")[:19] + " UTC" if value else "—"


def _profile(lines: list[str], p: dict[str, Any], title: str) -> None:
    lines += [
        f"## {title}",
        "",
        f"- 客户编号：{p['id']}",
        f"- 姓名：{_cell(p['name'])}",
        f"- 电子邮箱：{_cell(p['email'])}",
        f"- 手机号码：{_cell(p['phone'])}",
        f"- 备注：{_cell(p['note'])}",
        f"- 语言：{_cell(p['language'])}",
        f"- 标签：{_cell('、'.join(p['tags']))}",
        f"- 建档时间：{_time(p['created_at'])}",
        "",
    ]
    if p["identities"]:
        lines += ["### 联系方式与渠道身份", "", "| 渠道 | 标识 | 已验证 | 记录时间 |",
                  "|---|---|---|---|"]  # fmt: skip
        for i in p["identities"]:
            lines.append(
                f"| {_cell(_CHANNEL.get(i['channel'], i['channel']))} | {_cell(i['external_id'])}"
                f" | {'是' if i['verified'] else '否'} | {_time(i['created_at'])} |"
            )
        lines.append("")


def report_markdown(data: dict[str, Any]) -> str:
    """The whole export as Markdown: profile, tickets and messages, surveys, the rest."""
    lines = [
        "# 个人信息副本",
        "",
        f"本副本列出了我们的客服系统中保存的关于您的全部个人信息，生成于 {_time(data['exported_at'])}。",
        "",
    ]
    _profile(lines, data["customer"], "基本信息")
    for merged in data["merged_profiles"]:
        _profile(lines, merged, f"合并到本档案的客户资料（编号 {merged['id']}）")

    lines += [f"## 咨询与投诉记录（共 {len(data['tickets'])} 件）", ""]
    for t in data["tickets"]:
        lines += [
            f"### 工单 #{t['id']}：{_cell(t['subject'])}",
            "",
            f"- 渠道：{_cell(_CHANNEL.get(t['channel'], t['channel']))}",
            f"- 状态：{_cell(_STATUS.get(t['status'], t['status']))}",
            f"- 创建时间：{_time(t['created_at'])}",
            f"- 解决时间：{_time(t['resolved_at'])}",
            "",
        ]
        for m in t["messages"]:
            who = "您" if m["from_customer"] else _AUTHOR.get(m["author_type"], m["author_type"])
            if m["direction"] == "note":
                who = f"{who}（内部备注）"
            lines.append(f"**{who}**（{_time(m['created_at'])}）：")
            lines.append("")
            text = markdown_literal(m["text"] or "")
            lines += [f"> {line}" for line in text.splitlines() or [""]]
            for a in m["attachments"]:
                lines.append(f">\n> 附件：{_cell(a['filename'])}（{_size(a['size'])}）")
            lines.append("")

    if data["surveys"]:
        lines += ["## 满意度调查", "", "| 工单 | 满意度 | 推荐度 | 费力度 | 问题已解决 | 意见 | 回答时间 |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        for s in data["surveys"]:
            solved = {True: "是", False: "否"}.get(s["solved"], "—")
            lines.append(
                f"| #{s['ticket_id']} | {_cell(s['csat'])} | {_cell(s['nps'])} | {_cell(s['ces'])}"
                f" | {solved} | {_cell(s['comment'])} | {_time(s['answered_at'])} |"
            )
        lines.append("")
    if data["verifications"]:
        lines += [
            "## 联系方式验证",
            "",
            "| 类型 | 联系方式 | 发起时间 | 验证时间 |",
            "|---|---|---|---|",
        ]
        for v in data["verifications"]:
            lines.append(
                f"| {_cell(v['kind'])} | {_cell(v['value'])} | {_time(v['created_at'])}"
                f" | {_time(v['verified_at'])} |"
            )
        lines.append("")
    if data["social_mentions"]:
        lines += ["## 与您关联的公开社交媒体内容", ""]
        for m in data["social_mentions"]:
            lines.append(
                f"- {_cell(m['platform'])} · {_cell(m['author_name'] or m['author_handle'])}"
                f"（{_time(m['posted_at'])}）：{_cell(m['text'])}"
            )
        lines.append("")
    if data["wechat_followers"]:
        lines += ["## 微信公众号关注记录", ""]
        for f in data["wechat_followers"]:
            state = {True: "关注中", False: "已取消关注"}.get(f["subscribed"], "未知")
            lines.append(
                f"- openid {_cell(f['openid'])}：{state}，最近互动 {_time(f['last_seen_at'])}"
            )
        lines.append("")
    if data["merges"] or data["joins"]:
        lines += ["## 档案合并记录", ""]
        for m in data["merges"]:
            undone = f"，已于 {_time(m['undone_at'])} 撤销" if m["undone_at"] else ""
            lines.append(
                f"- 客户档案 {m['source_id']} 于 {_time(m['merged_at'])} 合并到 {m['target_id']}{undone}"
            )
        for j in data["joins"]:
            lines.append(
                f"- 档案 {j['customer_a_id']} 与 {j['customer_b_id']} 因相同联系方式被关联"
                f"（状态：{_cell(j['state'])}）"
            )
        lines.append("")
    lines += [
        "---",
        "",
        "如需更正或删除以上信息，请联系我们的客服。",
        "",
    ]
    return "\n".join(lines)
