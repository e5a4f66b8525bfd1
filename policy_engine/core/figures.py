"""The figures the FAQ answers quote (domain.yml's template variables), each with its clause: one source for
``SupportService.policy_values()`` and the answers of actions/faq.py."""

from __future__ import annotations

from typing import Any

from .policy import Policy


def policy_figures(policy: Policy) -> dict[str, str]:
    """The figures the FAQ answers quote, as strings keyed by the template variables of ``domain.yml``: the one source
    of ``SupportService.policy_values()`` (actions/faq.py)."""
    r, w, c, t = policy.returns, policy.warranty, policy.credits, policy.contacts
    figures: dict[str, Any] = {
        "policy_version": policy.version,
        "return_window_days": r.return_window_days,  # RET-1
        "bulk_threshold_units": r.bulk_threshold_units,  # RET-3
        "redeemed_damage_report_days": r.redeemed_damage_report_days,  # RET-10 / CRD-13
        "self_cancel_minutes": policy.cancellation.self_cancel_minutes,  # CAN-1
        "refund_business_days_min": policy.refunds.processing_business_days_min,  # REF-3
        "refund_business_days_max": policy.refunds.processing_business_days_max,  # REF-3
        "warranty_default_months": w.default_months,  # WAR-1
        **{f"warranty_months_{category}": months for category, months in w.category_months.items()},  # WAR-1
        "extended_warranty_max_years": w.extended_warranty_max_years,  # WAR-21
        "claim_window_days": w.claim_window_days,  # WAR-10
        "non_quality_report_days": w.non_quality_report_days,  # WAR-15
        "replacement_warranty_days": w.replacement_warranty_days,  # WAR-5
        "smart_help_center_url": w.smart_help_center_url,  # WAR-6
        "signup_reward": c.signup_reward,  # CRD-9
        "profile_reward": c.profile_reward,  # CRD-9
        "earn_points_per_currency_unit": c.earn_points_per_currency_unit,  # CRD-9
        "credits_unlock_days": c.unlock_days,  # CRD-6
        "credits_expiry_days": c.expiry_days,  # CRD-7 (quoted in days)
        "credits_expiry_months": c.expiry_months,  # CRD-7
        "credits_programme_launch": c.programme_launch.isoformat(),  # CRD-8
        "minimum_age_eu": c.minimum_age_for("EU"),  # CRD-2
        "minimum_age_us": c.minimum_age_for("US"),  # CRD-2
        "support_email": t.email,  # CON-1
        "support_phone_us": t.phone_us,  # CON-1
        "phone_open": t.phone_hours.open.strftime("%H:%M"),
        "phone_close": t.phone_hours.close.strftime("%H:%M"),
        "chat_open": t.live_chat_hours.open.strftime("%H:%M"),
        "chat_close": t.live_chat_hours.close.strftime("%H:%M"),
        "hours_timezone": t.hours_timezone,
        "parcel_late_after_days": policy.shipping.late_after_days,  # INS-1 (delayed)
    }
    for category in ("power_station", "charger", "power_bank"):  # quoted by the FAQ even without a category figure
        figures.setdefault(f"warranty_months_{category}", w.default_months)
    return {k: str(v) for k, v in figures.items()}
