"""The ``KefuError`` family: a code, an HTTP status, details and a zh-CN / en message."""

from __future__ import annotations

from typing import Any

# code -> (zh-CN, en). Messages may use {placeholders} filled from ``params``.
MESSAGES: dict[str, tuple[str, str]] = {
    "not_found": ("{what}不存在或无权访问", "{what} not found"),
    "route_not_found": ("接口不存在", "No such endpoint"),
    "method_not_allowed": ("不支持该请求方法", "Method not allowed"),
    "validation_error": ("请求数据不符合要求", "The request data is invalid"),
    "invalid_json": ("请求体不是合法的 JSON", "The request body is not valid JSON"),
    "invalid_social_post": (
        "社交平台帖子数据无效：{reason}",
        "The social post is invalid: {reason}",
    ),
    "payload_too_large": ("请求体超过 {limit} 字节上限", "The request body exceeds {limit} bytes"),
    "unsupported_media_type": (
        "请求体须为 application/json",
        "The request body must be application/json",
    ),
    "not_authenticated": ("请先登录或提供 API 令牌", "Log in or send an API token"),
    "invalid_credentials": ("邮箱或密码错误", "Wrong email or password"),
    "csrf_failed": ("CSRF 校验失败，请刷新页面后重试", "CSRF check failed; reload and try again"),
    "forbidden": ("没有权限执行此操作", "You are not allowed to do this"),
    "survey_link_refused": ("这个调查链接无法使用", "This survey link cannot be used"),
    "training_not_active": (
        "这次培训已经结束或还没有开始",
        "This training session has ended or has not started",
    ),
    "qa_dispute_open": (
        "这条质检结果已在申诉中，请等待主管答复",
        "This review is already disputed; wait for a reviewer's answer",
    ),
    "not_a_session": (
        "只有浏览器会话可以退出登录；API 令牌请在「令牌」中吊销",
        "Only a browser session logs out; revoke an API token under /tokens",
    ),
    "wrong_password": ("当前密码不正确", "The current password is wrong"),
    "password_unchanged": (
        "新密码不能与当前密码相同",
        "The new password must differ from the current one",
    ),
    "password_change_required": (
        "请先修改密码：你的密码是别人为你设置的初始密码，修改之前其他功能都无法使用",
        "Change your password first: it was set for you by someone else, and nothing else works "
        "until you choose your own",
    ),
    "temporary_password_expired": (
        "初始密码已过期，无法再登录，请联系管理员重新设置密码",
        "This initial password has expired and no longer signs in; ask an admin to set a new one",
    ),
    "session_expired": (
        "长时间未操作，登录已过期，请重新登录",
        "Your session expired after a time without use; sign in again",
    ),
    "invalid_code": ("验证码不正确或已使用", "The code is wrong or was used already"),
    "sign_in_expired": (
        "登录步骤已超时，请重新输入邮箱和密码",
        "The sign-in took too long; enter your email and password again",
    ),
    "two_factor_enrolment_required": (
        "你的账号须先开启两步验证：请在「账户与密码」页面绑定验证器应用",
        "Your account must turn on two-step verification first: set up an authenticator app on "
        "the account page",
    ),
    "two_factor_enabled": ("两步验证已开启", "Two-step verification is already on"),
    "two_factor_not_pending": (
        "没有等待确认的两步验证设置，请重新开始",
        "No two-step verification set-up is waiting; start again",
    ),
    "two_factor_unreadable": (
        "两步验证密钥无法解密（密钥已更换？），请管理员重置后重新绑定",
        "The two-step secret cannot be opened (was the secret key changed?); ask an admin to "
        "reset it and set it up again",
    ),
    "reset_link_invalid": (
        "重置链接无效、已使用或已过期，请重新申请",
        "The reset link is invalid, used or expired; ask for a new one",
    ),
    "integration_required": (
        "客户消息只能由集成投递，请使用集成令牌",
        "Customer messages are delivered by an integration; use an integration token",
    ),
    "staff_required": (
        "集成令牌只能用于投递客户消息",
        "An integration token can only deliver customer messages",
    ),
    "origin_refused": (
        "此网页的来源不在允许列表中（KEFU_ALLOWED_ORIGINS）",
        "This page's origin is not on the allowed list (KEFU_ALLOWED_ORIGINS)",
    ),
    "signed_out": ("登录已失效，请重新登录", "You are signed out; sign in again"),
    "credential_in_url": (
        "令牌不能放在网址中，请使用 Authorization 请求头",
        "A token does not go in the URL; send it in the Authorization header",
    ),
    "deactivated": ("该账号已停用", "This account is deactivated"),
    "bad_frame": ("无法识别的消息：{reason}", "Message not understood: {reason}"),
    "channel_not_allowed": (
        "该集成无权投递「{channel}」渠道的消息",
        "This integration may not deliver messages of the {channel} channel",
    ),
    "duplicate_delivery": (
        "该消息已由其他集成投递过",
        "This message was already delivered by another integration",
    ),
    "norms_blocked": (
        "回复不符合沟通规范，请修改；如确需发送，请填写理由",
        "The reply breaks the communication norms; edit it, or give a reason to send it anyway",
    ),
    "rate_limited": ("请求过于频繁，请稍后再试", "Too many requests; try again later"),
    "invalid_mailbox": (
        "邮箱设置无效：{reason}",
        "The mailbox settings are invalid: {reason}",
    ),
    "mailbox_password_unreadable": (
        "邮箱密码无法解密（密钥已更换？），请重新填写密码",
        "The mailbox password cannot be opened (was the secret key changed?); enter it again",
    ),
    "customer_merged": (
        "该客户已合并到其他客户，请在合并后的客户上操作",
        "This customer was merged into another; work on that one",
    ),
    "group_not_empty": (
        "该分组下还有 {tickets} 个工单，请先转移",
        "The group still holds {tickets} tickets; move them first",
    ),
    "already_claimed": ("该工单已被其他客服认领", "Another agent has already claimed this ticket"),
    "channel_unreachable": (
        "客户在「{channel}」渠道上没有身份，不能从该渠道回复",
        "The customer has no identity on the {channel} channel to reply through",
    ),
    "invalid_transition": (
        "工单状态不能从「{current}」变为「{target}」",
        "A ticket cannot move from {current} to {target}",
    ),
    "invalid_cursor": ("分页游标无效", "The pagination cursor is invalid"),
    "last_admin": (
        "不能停用或降级最后一位管理员",
        "The last active admin cannot be deactivated or demoted",
    ),
    "email_taken": ("该邮箱已被使用", "This email address is already in use"),
    "name_taken": ("该名称已被使用", "This name is already in use"),
    "identity_taken": (
        "该渠道身份已属于其他客户",
        "This channel identity belongs to another customer",
    ),
    "merge_same_customer": ("不能把客户合并到自身", "A customer cannot be merged into itself"),
    "merge_already_merged": (
        "其中一个客户已被合并过",
        "One of these customers has already been merged",
    ),
    "merge_already_undone": ("该合并已撤销", "This merge has already been undone"),
    "erasure_reason_required": (
        "删除客户个人信息须写明原因",
        "Erasing a customer's personal data needs a reason",
    ),
    "customer_join_decided": (
        "该合并建议已处理过（{state}）",
        "This suggestion has already been decided ({state})",
    ),
    "invalid_email": ("邮箱地址格式不正确", "This is not an e-mail address"),
    "invalid_phone": ("手机号码格式不正确", "This is not a phone number"),
    "verification_rate_limited": (
        "验证码发送过于频繁，请一小时后再试",
        "Too many codes for this customer; try again in an hour",
    ),
    "attachment_too_large": ("附件超过 {limit} 字节上限", "The attachment exceeds {limit} bytes"),
    "attachment_infected": (
        "病毒扫描认为附件不安全，文件未保存",
        "The virus scanner found the attachment unsafe; it was not saved",
    ),
    "attachment_scan_failed": (
        "附件未能完成病毒扫描，文件未保存，请稍后再试或联系管理员",
        "The attachment could not be scanned for viruses and was not saved; try again later or tell an administrator",
    ),
    "too_many_attachments": (
        "一次最多附带 {limit} 个文件",
        "At most {limit} files can be attached at a time",
    ),
    "empty_message": ("请先写下内容", "Write something first"),
    "invalid_attachment": (
        "附件内容不是有效的 Base64 编码",
        "The attachment content is not valid base64",
    ),
    "inbound_failed": (
        "消息已保存但处理失败，请稍后重新投递",
        "The message was stored but could not be processed; deliver it again later",
    ),
    "intake_busy": (
        "消息接收队列已满，请稍后重试",
        "Too many messages are waiting to be stored; retry shortly",
    ),
    "invalid_conditions": (
        "路由条件无效：{reason}",
        "The routing conditions are invalid: {reason}",
    ),
    "invalid_rule_order": (
        "顺序须包含每条路由规则且各出现一次",
        "The order must name every routing rule exactly once",
    ),
    "invalid_calendar": (
        "工作时间设置无效：{reason}",
        "The working-hours calendar is invalid: {reason}",
    ),
    "missing_data": ("「{stage}」还缺少：{missing}", "{stage_en} still needs: {missing_en}"),
    "wrong_stage": (
        "这一步不属于案件当前的阶段「{stage}」",
        "This step does not belong to the case's stage ({stage_en})",
    ),
    "case_archived": (
        "案件已{stage}，不能再记录步骤；可重新打开",
        "The case is {stage_en}; reopen it to record more steps",
    ),
    "not_waitable": ("已解决的案件不能挂起等待", "A resolved case does not wait"),
    "bad_wait_until": ("等待的截止时间须在将来", "A wait must end in the future"),
    "not_resolved": (
        "只有已解决或已关闭的案件才能重新打开",
        "Only a resolved or closed case can be reopened",
    ),
    "steps_required": (
        "投诉须按闭环步骤解决和归档（POST /api/v1/tickets/{{id}}/steps）",
        "A complaint is resolved and archived through its steps (POST /api/v1/tickets/{{id}}/steps)",
    ),
    "nothing_to_approve": ("没有待审批的补偿", "There is no compensation awaiting approval"),
    "above_authority": (
        "该补偿超出你的授权，需要{role}审批",
        "This compensation is above your authority; it needs a {role_en}",
    ),
    "bad_trigger": ("自动化规则无效：{reason}", "The automation rule is invalid: {reason}"),
    "trigger_exists": ("已有名为「{name}」的自动化规则", "An automation named {name} exists"),
    "invalid_step": ("步骤数据无效", "The step's data is invalid"),
    "ticket_merged": (
        "该工单已合并到 #{into}，请在合并后的工单上操作",
        "This ticket was merged into #{into}; work on that one",
    ),
    "merge_same_ticket": ("不能把工单合并到自身", "A ticket cannot be merged into itself"),
    "self_link": ("不能把工单关联到它自己", "A ticket cannot be linked to itself"),
    "merge_other_customer": (
        "只能合并同一客户的工单",
        "Only tickets of the same customer can be merged",
    ),
    "origin_not_allowed": (
        "该网站未被允许嵌入此在线客服",
        "This site is not allowed to embed this chat",
    ),
    "invalid_visitor_token": (
        "访客凭证无效，请刷新页面",
        "The visitor token is invalid; reload the page",
    ),
    "too_long": ("消息超过 {limit} 字上限", "The message exceeds {limit} characters"),
    "unsupported_file_type": (
        "只能发送图片（JPEG、PNG、GIF、WebP）或 PDF 文件",
        "Only images (JPEG, PNG, GIF, WebP) and PDF files can be sent",
    ),
    "contact_required": (
        "请留下手机号或邮箱，方便我们联系您",
        "Leave a phone number or an e-mail address so we can answer you",
    ),
    "invalid_origin": (
        "网站来源格式应为 https://域名[:端口]：{origin}",
        "A site origin looks like https://host[:port]: {origin}",
    ),
    "not_offered": (
        "该会话没有分配给你，或邀请已过期",
        "This chat is not offered to you, or the offer has expired",
    ),
    "ticket_busy": (
        "该工单正在被其他人修改，请稍后重试",
        "Someone else is changing this ticket right now; try again shortly",
    ),
    "record_busy": (
        "该数据正在被其他操作修改，请稍后重试",
        "This data is being changed by another operation; try again shortly",
    ),
    "database_unavailable": (
        "数据库暂时无法连接，请稍后重试",
        "The database cannot be reached right now; try again shortly",
    ),
    "storage_full": (
        "附件存储空间不足，文件未保存，请联系管理员",
        "There is no room left to store the file; it was not saved. Tell an administrator",
    ),
    "callback_url_required": (
        "请先设置回调地址，再生成回调密钥",
        "Set a callback URL before making a callback secret",
    ),
    "not_retryable": (
        "只有投递失败或已转入死信的消息可以重新投递（当前状态：{state}）",
        "Only a failed or dead message can be sent again (it is {state})",
    ),
    "not_own_reply": (
        "只能把自己发出的回复提交为话术",
        "Only a reply you sent yourself can be proposed as a script",
    ),
    "not_proposed": (
        "该话术不是待审核的提议（当前状态：{current}）",
        "This script is not a proposal awaiting review (it is {current})",
    ),
    "invalid_library": (
        "话术文件有误，未导入任何内容",
        "The script file has errors; nothing was imported",
    ),
    "invalid_macro": ("宏的动作无效：{reason}", "The macro's actions are invalid: {reason}"),
    "query_empty": ("请输入要搜索的内容", "Type something to search for"),
    "query_too_long": (
        "搜索内容过长（最多 {limit} 个字）",
        "The search text is too long ({limit} characters at most)",
    ),
    "field_required": (
        "解决工单前请先填写：{label}",
        "Fill in before resolving: {label}",
    ),
    "field_unknown_field": (
        "没有可用于此工单的字段「{label}」",
        "No field {label} applies to this ticket",
    ),
    "field_not_text": ("「{label}」须为文字", "{label} must be text"),
    "field_too_long": (
        "「{label}」太长了（最多 500 字）",
        "{label} is too long (500 characters at most)",
    ),
    "field_not_number": ("「{label}」须为数字", "{label} must be a number"),
    "field_not_date": (
        "「{label}」须为日期，如 2026-12-07",
        "{label} must be a date such as 2026-12-07",
    ),
    "field_not_option": ("「{label}」须从选项中选择", "{label} must be one of its options"),
    "field_bad_key": (
        "字段标识须以小写字母开头，只含小写字母、数字和下划线（最多 40 个）",
        "A field key starts with a lower-case letter and has only a-z, 0-9 and _ (40 at most)",
    ),
    "field_options_required": (
        "选项字段至少需要一个选项",
        "A choice field needs at least one option",
    ),
    "field_too_many_options": (
        "选项最多 50 个，每个最多 100 字",
        "At most 50 options of 100 characters each",
    ),
    "field_taken": ("已有同名或同标识的字段", "Another field has this key or label"),
    "outbound_url_refused": (
        "不能向这个地址发送请求（{reason}）：只允许 https 公网地址（http 仅限管理员允许的主机），且不含用户名密码",
        "kefu does not call this address ({reason}): only public https addresses (http only to"
        " hosts the administrator allows), without credentials",
    ),
    "no_order_number": ("这个工单还没有订单号", "This ticket has no order number yet"),
    "key_taken": ("该文章编号已被使用", "Another article has this key"),
    "invalid_kb_import": (
        "知识库文件有误，未导入任何内容",
        "The knowledge-base files have errors; nothing was imported",
    ),
    "webhook_signature_invalid": (
        "Webhook 签名无效、缺失或时间戳超出允许范围（{reason}）",
        "The webhook signature is invalid, missing or out of the time tolerance ({reason})",
    ),
    "webhook_event_not_accepted": (
        "该来源不接收「{event_type}」类型的事件",
        "This source does not accept events of type {event_type}",
    ),
    "webhook_key_taken": ("已有来源使用这个标识", "Another source has this key"),
    "webhook_social_unavailable": (
        "社交舆情模块尚未安装，无法接收社交帖子",
        "Social listening is not installed; social posts cannot be taken",
    ),
    "internal_error": ("服务器内部错误", "Internal server error"),
    "wechat_window_closed": (
        "客户最后一条微信消息已超过 48 小时，不能再自由回复；请改用模板消息或客户的其他渠道",
        "More than 48 hours since the customer's last WeChat message: free replies are closed; "
        "send a template message or use another channel of the customer",
    ),
    "wechat_template_missing": (
        "该公众号没有设置模板消息，无法在 48 小时后回复",
        "The Official Account has no template message to reply with after 48 hours",
    ),
    "invalid_encoding_aes_key": (
        "EncodingAESKey 应为 43 位字符（公众号后台「基本配置」中生成）",
        "An EncodingAESKey has 43 characters (generated in the account's basic settings)",
    ),
    "encoding_aes_key_required": (
        "安全模式和兼容模式需要 EncodingAESKey",
        "Safe and compatible modes need an EncodingAESKey",
    ),
    "wechat_signature_invalid": (
        "微信签名校验失败或请求已过期",
        "The WeChat signature does not verify or the request is too old",
    ),
}

WHAT: dict[str, tuple[str, str]] = {
    "ticket": ("工单", "Ticket"),
    "customer": ("客户", "Customer"),
    "identity": ("渠道身份", "Channel identity"),
    "user": ("用户", "User"),
    "group": ("分组", "Group"),
    "tag": ("标签", "Tag"),
    "token": ("令牌", "Token"),
    "session": ("登录会话", "Session"),
    "integration": ("集成", "Integration"),
    "merge": ("合并记录", "Merge"),
    "customer_join": ("合并建议", "Join suggestion"),
    "attachment": ("附件", "Attachment"),
    "message": ("消息", "Message"),
    "webchat_channel": ("在线客服渠道", "Web chat channel"),
    "mailbox": ("邮箱", "Mailbox"),
    "mail_raw": ("邮件", "Mail"),
    "wechat_account": ("微信公众号", "WeChat Official Account"),
    "social_mention": ("舆情帖子", "Social mention"),
    "social_alert": ("舆情预警", "Social alert"),
    "social_feed": ("舆情订阅源", "Social feed"),
    "routing_rule": ("路由规则", "Routing rule"),
    "notification": ("通知", "Notification"),
    "sla_policy": ("SLA 策略", "SLA policy"),
    "outbox_entry": ("投递记录", "Outbox entry"),
    "ticket_field": ("工单字段", "Ticket field"),
    "case_entry": ("案例", "Case entry"),
    "kb_article": ("知识库文章", "Article"),
    "kb_version": ("文章版本", "Article version"),
    "kb_feedback": ("反馈", "Feedback"),
    "webhook_source": ("Webhook 来源", "Webhook source"),
    "webhook_subscription": ("Webhook 订阅", "Webhook subscription"),
}


class KefuError(Exception):
    """An error the API reports to its caller as ``{"error": {code, message, details}}``."""

    status_code = 400

    def __init__(
        self,
        code: str,
        *,
        status_code: int | None = None,
        details: Any = None,
        retry_after: int | None = None,
        **params: Any,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after  # seconds, sent as Retry-After
        if status_code is not None:
            self.status_code = status_code
        self.details = details
        self.params = params

    def message(self, language: str) -> str:
        return render_message(self.code, language, **self.params)


class NotFound(KefuError):
    status_code = 404

    def __init__(self, what: str, **kwargs: Any) -> None:
        super().__init__("not_found", what=what, **kwargs)


class PermissionDenied(KefuError):
    status_code = 403

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("forbidden", **kwargs)


class NotAuthenticated(KefuError):
    status_code = 401

    def __init__(self, code: str = "not_authenticated", **kwargs: Any) -> None:
        super().__init__(code, **kwargs)


class Conflict(KefuError):
    status_code = 409


BUSY_RETRY_AFTER_SECONDS = 1  # a row lock is held for one short transaction
DATABASE_RETRY_AFTER_SECONDS = 5  # a restarting or failing-over database takes a few seconds


class DatabaseUnavailable(KefuError):
    """The database cannot be reached (down, restarting, unreachable): 503, try again later."""

    status_code = 503

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("database_unavailable", retry_after=DATABASE_RETRY_AFTER_SECONDS, **kwargs)


def render_message(code: str, language: str, **params: Any) -> str:
    zh, en = MESSAGES.get(code, MESSAGES["internal_error"])
    english = language == "en"
    if "what" in params:
        pair = WHAT.get(params["what"], (params["what"], params["what"]))
        params = {**params, "what": pair[1] if english else pair[0]}
    template = en if english else zh
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def pick_language(accept_language: str | None) -> str:
    """``zh-CN`` (the default) or ``en``, from an ``Accept-Language`` header."""
    if not accept_language:
        return "zh-CN"
    best, best_q = "zh-CN", -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q <= 0:  # q=0 means "not acceptable"
            continue
        tag = tag.strip().lower()
        if tag.startswith("en"):
            lang = "en"
        elif tag.startswith("zh") or tag == "*":
            lang = "zh-CN"
        else:
            continue
        if q > best_q:
            best, best_q = lang, q
    return best
