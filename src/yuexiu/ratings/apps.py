from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class RatingsConfig(AppConfig):
    """好差评. Hooks: the default-rating sweep as a periodic job, the question sets as reference data."""

    name = "yuexiu.ratings"
    label = "ratings"
    verbose_name = "好差评"

    def ready(self) -> None:
        from yuexiu.core.public_cache import watch_public_models
        from yuexiu.ratings.models import Appeal, Rating, Rectification, SelfCheck, Visit

        # What the public statistics count, so that a rating shows in them at once (core.public_cache).
        watch_public_models(Rating, Rectification, Visit, Appeal, SelfCheck, revision="ratings")

    periodic_jobs = [
        {
            "name": "好差评：超期默认评价",
            "func": "yuexiu.ratings.tasks.run_default_ratings",
            "schedule_type": "H",  # django_q Schedule.HOURLY
        }
    ]

    def workbench_panel(self, request: Any) -> str:
        """The viewer's open 差评 (their units') and the steps waiting for them, callbacks included."""
        from django.template.loader import render_to_string

        from yuexiu.ratings import selectors
        from yuexiu.ratings.models import Step

        context = {
            "open_count": selectors.list_rectifications(request.user).exclude(step=Step.CLOSED).count(),
            "to_record_count": selectors.list_steps_to_record(request.user).count(),
            "callback_count": selectors.list_callbacks_due(request.user).count(),
            "review_count": selectors.list_reviews_to_decide(request.user).count(),
        }
        return render_to_string("ratings/_workbench_panel.html", context, request=request)

    def case_panel(self, request: Any, case: Any) -> str:
        """The rating section of a finished case: its state, and for the applicant the QR code of the
        result notice and the rating form, or, after a 差评, how it is handled and the request for a
        review (申诉复核)."""
        from django.template.loader import render_to_string
        from django.urls import reverse

        from yuexiu.core.errors import DomainError, NotFound
        from yuexiu.core.views import qr_svg
        from yuexiu.ratings import selectors, services
        from yuexiu.ratings.forms import rating_form
        from yuexiu.ratings.views import RATING_DRAFT_KEY, REVIEW_DRAFT_KEY

        if case.status not in services.RATABLE:
            return ""
        try:
            questions = services.current_question_set(case).questions
        except NotFound:  # an installation without question sets: no rating section rather than an error
            return ""
        # A rating refused a moment ago (rate_on_portal) comes back once, with what the person chose.
        draft = request.session.get(RATING_DRAFT_KEY)
        posted, refusal = None, None
        if draft and draft.get("case") == case.number:
            del request.session[RATING_DRAFT_KEY]
            posted = draft["posted"]
            refusal = DomainError(draft["message"], code=draft["code"], details=draft["details"])
        url = request.build_absolute_uri(reverse("ratings:rate", args=[services.rating_token(case)]))
        is_applicant = case.applicant_id == request.user.pk
        rating = getattr(case, "rating", None)
        # The rater sees how their 差评 is handled and may ask for a review (申诉复核); a refused request
        # comes back once with the reason typed (review_on_portal).
        review_draft = request.session.pop(REVIEW_DRAFT_KEY, None) if is_applicant else None
        if review_draft and review_draft.get("case") != case.number:
            review_draft = None
        context = {
            "case": case,
            "rating_url": url,
            "rating_qr": qr_svg(url),
            "can_rate": is_applicant,
            "rating_form": rating_form(questions=questions, posted=posted, error=refusal),
            "handling": selectors.handling_for_rater(rating) if is_applicant and rating is not None else None,
            "review_action": reverse("ratings:review_on_portal", args=[case.number]),
            "review_error": (review_draft or {}).get("message", ""),
            "review_reason": (review_draft or {}).get("reason", ""),
        }
        return render_to_string("ratings/_case_panel.html", context, request=request)

    def load_demo_data(self) -> list[str]:
        """Demo cases and ratings for `yuexiu setup --demo` (see ratings.demo)."""
        from yuexiu.ratings.demo import load_demo_activity

        created = load_demo_activity()
        lines = [f"演示办件与评价：新增 {created} 件"] if created else []
        # The tablet and the kiosk only work on a device bound by staff (no published demo token):
        # the visitor binds their own browser as window_centre.
        lines.append(
            "试用窗口评价器：以 window_centre 登录，在“好差评 → 评价设备”将本浏览器绑定为“综合窗口1号”的窗口评价器，"
            "登记现场服务后打开 /ratings/tablet/（自助终端同理：/ratings/kiosk/）"
        )
        return lines

    def load_reference_data(self) -> list[str]:
        from yuexiu.ratings import services

        created = services.load_question_sets()
        return [f"好差评指标集：新增 {created}"] if created else []
