"""`UserError`: expected business failures as data, with a stable code and a localized message."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import strawberry

from jikuai.domain.shared.errors import DomainError, ErrorCode

strawberry.enum(ErrorCode, name="ErrorCode", description="Stable error codes.")

_MESSAGES: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.REQUIRED: ("此项必填", "This field is required"),
    ErrorCode.NOT_FOUND: ("未找到", "Not found"),
    ErrorCode.ENVELOPE_INVALID: ("数字信封无效", "The sealed value is invalid"),
    ErrorCode.INVALID_ID_NUMBER: ("身份证号码无效", "Invalid resident ID number"),
    ErrorCode.INVALID_PHONE: ("手机号码无效", "Invalid mainland mobile number"),
    ErrorCode.INVALID_NAME: ("姓名无效（2–30个字符）", "Invalid name (2–30 characters)"),
    ErrorCode.INVALID_INSTITUTION: ("所选机构无效", "Invalid institution"),
    ErrorCode.INVALID_REFERRER_CODE: ("推荐码无效", "Unknown referral code"),
    ErrorCode.INVALID_PUBLIC_KEY: (
        "公钥无效（需要至少2048位的RSA公钥）",
        "Invalid public key (an RSA key of at least 2048 bits is required)",
    ),
    ErrorCode.CUSTOMER_EXISTS: ("该客户已登记", "This customer is already registered"),
    ErrorCode.ALREADY_REGISTERED: ("您已完成注册", "You have already registered"),
    ErrorCode.INVALID_CREDENTIALS: ("用户名或密码错误", "Wrong username or password"),
    ErrorCode.LOGIN_THROTTLED: (
        "登录失败次数过多，请稍后再试",
        "Too many failed logins, try again later",
    ),
    ErrorCode.TOO_MANY_ATTEMPTS: ("尝试次数过多，请稍后再试", "Too many attempts, try again later"),
    ErrorCode.INVALID_REFRESH_TOKEN: ("登录已失效，请重新登录", "Please sign in again"),
    ErrorCode.INVALID_LOGIN_CODE: ("微信登录凭证无效", "Invalid WeChat login code"),
    ErrorCode.LOGIN_BLOCKED: ("该微信用户暂时无法登录", "This WeChat user cannot sign in"),
    ErrorCode.UPSTREAM_BUSY: ("微信服务繁忙，请稍后再试", "WeChat is busy, try again"),
    ErrorCode.UPSTREAM_UNAVAILABLE: (
        "微信服务暂不可用",
        "WeChat is unavailable at the moment",
    ),
    ErrorCode.INVALID_AMOUNT: ("金额无效", "Invalid amount"),
    ErrorCode.INVALID_TERM: ("期限无效", "Invalid term"),
    ErrorCode.INVALID_RATE: ("利率无效", "Invalid rate"),
    ErrorCode.INVALID_DATE: ("日期无效", "Invalid date"),
    ErrorCode.INVALID_METHOD: ("该产品不支持此还款方式", "Repayment method not offered"),
    ErrorCode.INVALID_EXPRESSION: ("规则表达式无效", "Invalid rule expression"),
    ErrorCode.INVALID_SCORECARD: ("评分卡配置无效", "Invalid scorecard"),
    ErrorCode.INVALID_PRODUCT: ("产品配置无效", "Invalid product terms"),
    ErrorCode.PRODUCT_EXISTS: ("产品代码已存在", "A product with this code exists"),
    ErrorCode.PRODUCT_NOT_OFFERED: ("该产品不面向您开放", "This product is not offered to you"),
    ErrorCode.LPR_MISSING: ("尚无适用的LPR报价", "No LPR is in force for this date"),
    ErrorCode.INVALID_STATE: ("当前状态不允许此操作", "Not allowed in the current state"),
    ErrorCode.AMOUNT_ABOVE_AUTHORITY: ("超出审批权限", "Amount above your approval authority"),
    ErrorCode.OWN_APPLICATION: ("不能审批自己经办的申请", "You cannot review your own application"),
    ErrorCode.LIMIT_EXCEEDED: ("超出可用额度", "Amount above the available limit"),
    ErrorCode.CREDIT_LINE_INACTIVE: ("授信额度不可用", "The credit line cannot be drawn"),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: (
        "该幂等键已用于其他请求",
        "This idempotency key was used for another request",
    ),
    ErrorCode.LOAN_CLOSED: ("贷款已结清", "The loan is closed"),
    ErrorCode.CREDIT_LINE_EXISTS: (
        "您已有该产品的有效授信额度",
        "You already have an open credit line of this product",
    ),
    ErrorCode.INVALID_USCC: ("统一社会信用代码无效", "Invalid Unified Social Credit Code"),
    ErrorCode.INVALID_BANK_ACCOUNT: ("结算账号无效", "Invalid settlement account number"),
    ErrorCode.MERCHANT_EXISTS: ("该商户已申请或已入驻", "This merchant has already applied"),
    ErrorCode.USERNAME_TAKEN: ("该用户名已被使用", "This username is taken"),
    ErrorCode.MERCHANT_NOT_ACTIVE: (
        "商户未开通或已暂停",
        "The merchant is not approved or is suspended",
    ),
    ErrorCode.INVALID_POINTS: ("积分数无效", "Invalid number of points"),
    ErrorCode.INVALID_LENGTH: ("长度不符合要求", "Too short or too long"),
    ErrorCode.INVALID_QUANTITY: ("数量无效", "Invalid quantity"),
    ErrorCode.EARNING_RULE_MISSING: ("尚未配置该类积分规则", "No earning rule for this event type"),
    ErrorCode.INSUFFICIENT_POINTS: ("积分余额不足", "Not enough points"),
    ErrorCode.REDEMPTION_CODE_UNKNOWN: ("核销码无效", "Unknown redemption code"),
    ErrorCode.REDEMPTION_CODE_EXPIRED: ("核销码已过期，请刷新", "The redemption code has expired"),
    ErrorCode.REDEMPTION_CODE_USED: ("核销码已使用", "The redemption code has been used"),
    ErrorCode.CUSTOMER_DAILY_LIMIT: (
        "超出客户当日积分使用限额",
        "Above the customer's daily redemption limit",
    ),
    ErrorCode.MERCHANT_DAILY_LIMIT: (
        "超出商户当日核销限额",
        "Above the merchant's daily redemption limit",
    ),
    ErrorCode.OUT_OF_STOCK: ("权益库存不足", "Out of stock"),
    ErrorCode.REWARD_LIMIT_REACHED: (
        "已达该权益每人兑换上限",
        "Per-customer limit of this benefit reached",
    ),
    ErrorCode.REWARD_NOT_OFFERED: ("该权益不在兑换期内", "This benefit is not offered now"),
    ErrorCode.REDEMPTION_LAPSED: (
        "确认已超时，本次核销已取消",
        "Not confirmed in time; the redemption lapsed",
    ),
    ErrorCode.VOID_WINDOW_CLOSED: (
        "只能撤销当日的核销",
        "Only a redemption of today can be voided",
    ),
    ErrorCode.INVALID_PERIOD: (
        "考核期格式应为 2026-11、2026-Q4 或 2026",
        "A period is written 2026-11, 2026-Q4 or 2026",
    ),
    ErrorCode.PERIOD_NOT_OVER: ("考核期尚未结束", "The period is not over yet"),
    ErrorCode.PERIOD_CLOSED: (
        "考核期已关账，结果不再变动",
        "The period is closed; its results no longer change",
    ),
    ErrorCode.INVALID_INDICATOR: ("指标不存在或重复", "Unknown or repeated indicator"),
    ErrorCode.INVALID_WEIGHTS: (
        "指标权重须为正数且合计为 100",
        "Indicator weights must be positive and add up to 100",
    ),
    ErrorCode.INVALID_TARGET: ("目标值须大于零", "A target must be greater than zero"),
    ErrorCode.INVALID_BOUNDS: (
        "封顶值须不低于 1，保底值须在 0 与封顶值之间",
        "The ceiling must be at least 1 and the floor between 0 and the ceiling",
    ),
    ErrorCode.INVALID_ROLE: ("该角色不参与考核", "That role is not assessed"),
    ErrorCode.INVALID_MEASURE: ("不可导入的指标数据", "That measure cannot be imported"),
    ErrorCode.INVALID_SOURCE: (
        "数据来源须为 1–32 位字母、数字或 _-，且不能是 PLATFORM",
        "A source is 1–32 letters, digits, _ or -, and not PLATFORM",
    ),
    ErrorCode.SCHEME_EXISTS: (
        "该角色、范围和周期已有在用的考核方案，请修订它",
        "A scheme for that role, scope and period is already in force; revise it",
    ),
    ErrorCode.INVALID_SUBJECT: (
        "员工与客户只能指定其一",
        "Name a staff member or a customer, not both",
    ),
    ErrorCode.INVALID_RATING: (
        "评议等级应为优秀、良好、一般或较差",
        "The rating must be EXCELLENT, GOOD, FAIR or POOR",
    ),
    ErrorCode.DUPLICATE_HOUSEHOLD: (
        "同一户主在本次导入中重复出现",
        "This head of household appears more than once in the import",
    ),
    ErrorCode.INVALID_FILE: (
        "文件无法读取，或不是带表头的花名册（CSV 或 XLSX）",
        "The file cannot be read, or is not a roster with a header (CSV or XLSX)",
    ),
    ErrorCode.INVALID_SCOPE: (
        "村、网点和机构最多只能指定其一",
        "Name at most one of village, branch and institution",
    ),
    ErrorCode.VILLAGE_EXISTS: (
        "该村编码已被使用",
        "That village code is taken",
    ),
    ErrorCode.OFFER_NOT_AVAILABLE: (
        "没有可接受的整村授信预授信额度",
        "There is no pre-approved whole-village credit offer to accept",
    ),
    ErrorCode.CONCURRENT_UPDATE: (
        "数据已被他人更新，请重试",
        "Changed by another request, try again",
    ),
}


def message_for(code: ErrorCode, language: str) -> str:
    chinese, english = _MESSAGES[code]
    return english if language == "en" else chinese


@strawberry.type(description="An expected failure of a mutation (业务错误).")
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path of the input field the error concerns, if any."
    )
    code: ErrorCode = strawberry.field(description="Stable code for programs.")
    message: str = strawberry.field(description="Message for people, in the request's language.")


def user_error(code: ErrorCode, language: str, field: Iterable[str] | None = None) -> UserError:
    return UserError(
        field=list(field) if field is not None else None,
        code=code,
        message=message_for(code, language),
    )


def user_errors(errors: Iterable[DomainError], language: str) -> list[UserError]:
    return [user_error(each.code, language, each.field) for each in errors]


@lru_cache(maxsize=256)
def preferred_language(accept_language: str | None) -> str:
    """`en` when the client prefers English over Chinese, else `zh-CN`."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "zh-CN"
