"""The web forms: what a partner or a moderator types, read into `directory.listings` values.

Field-level checks (required, length, email, one line) are WTForms validators; the rules that
look at several fields at once live in `directory.listings.check_listing`, and their messages
are put beside the fields they concern by `attach_problems`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget, Select, html_params

from feeds.closing import is_zone_known
from feeds.types import DEADLINE_KINDS, FUNDING_KINDS, OPPORTUNITY_KINDS, Funding

from .display import DEADLINE_KIND_LABELS, FUNDING_LABELS, OPPORTUNITY_KIND_LABELS
from .i18n import LANGUAGES, current_language
from .listings import (
    DeadlineInput,
    ListingInput,
    ReaderTime,
    country_choices,
    has_line_break,
    is_currency,
    parse_amount,
    reader_times,
    zone_choices,
)
from .regions import REGION_NAMES
from .subscribers import (
    DEFAULT_LEAD_DAYS,
    LEAD_CHOICES,
    MAX_KEYWORDS_TEXT,
    PreferenceError,
    check_preferences,
    normalise_email,
)
from .web import known_zones

MAX_DEADLINE_ROWS = 12
DATE_MESSAGE = _l("Enter a date, like 2027-04-15.")
TIME_MESSAGE = _l("Enter a time, like 17:00.")
REQUIRED = _l("This field is required.")


class Date(DateField):
    """A date field (`<input type=date>`) whose error says what to type."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(DATE_MESSAGE)) from None


class Time(TimeField):
    """A time field (`<input type=time>`) whose error says what to type."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(TIME_MESSAGE)) from None


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the options of a select."""
    return [SelectChoice(value, label) for value, label in pairs]


class LongListSelect(Select):
    """A select of a long, fixed list (zones, countries) whose options are escaped only once.

    WTForms escapes every option on every render: two deadline rows of 400 zones and the
    countries made the partner form cost ~60 ms. Output is the same as WTForms' own. The
    escaped options are kept per interface language, as their labels are translated.
    """

    def __init__(self, pairs: Callable[[], Iterable[tuple[str, str]]], multiple: bool = False):
        super().__init__(multiple=multiple)
        self.pairs = pairs

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        chosen = field.data if self.multiple else [field.data]
        chosen = {str(value) for value in chosen or () if value is not None}
        parts = [f"<select {html_params(name=field.name, **kwargs)}>"]
        options = _escaped_options(self.pairs, current_language())
        known = {value for value, _ in options}
        for value in sorted(chosen - known - {""}):
            parts.append(f'<option selected value="{escape(value)}">{escape(value)}</option>')
        for value, option in options:
            parts.append(
                option.replace("<option ", "<option selected ", 1) if value in chosen else option
            )
        parts.append("</select>")
        return Markup("".join(parts))


@cache
def _escaped_options(
    pairs: Callable[[], Iterable[tuple[str, str]]], language: str
) -> tuple[tuple[str, str], ...]:
    return tuple(
        (value, f'<option value="{escape(value)}">{escape(label)}</option>')
        for value, label in pairs()
    )


class ZoneField(SelectField):
    """A zone from the list, or another label the closing rule resolves (as a feed stated it).

    A deadline read from a feed may say `CET` or `UTC+03:00`: a moderator correcting the
    listing sees it kept, rather than silently replaced by the first zone of the list.
    """

    def pre_validate(self, form: Form) -> None:
        if self.data and not is_zone_known(self.data):
            raise ValidationError(_("Choose a time zone from the list."))


def _zone_pairs() -> list[tuple[str, str]]:
    return [("", _l("Not stated")), *zone_choices()]


def one_line(form: Form, field: StringField) -> None:
    """Refuse line breaks in a one-line field: they could smuggle headers into an email."""
    if has_line_break(field.data):
        raise StopValidation(_("Line breaks are not allowed here."))


def longest(characters: int) -> Length:
    """At most `characters` characters, said in the reader's language."""
    return Length(
        max=characters,
        message=_l("At most %(num)d characters, please.", num=characters),
    )


def stripped(value: str | None) -> str | None:
    """Trim what was typed, so spaces alone count as empty."""
    return value.strip() if isinstance(value, str) else value


class DeadlineForm(Form):
    """One deadline row; a row left blank is ignored."""

    row_id = HiddenField()
    kind = SelectField(
        _l("What closes"),
        choices=options((k, DEADLINE_KIND_LABELS[k]) for k in DEADLINE_KINDS),
        default="application",
    )
    due_on = Date(_l("Date"), validators=[Optional()])
    due_time = Time(_l("Time (optional)"), validators=[Optional()])
    time_zone = ZoneField(
        _l("Time zone"),
        choices=options(_zone_pairs()),
        default="",
        widget=LongListSelect(_zone_pairs),
    )
    remove = BooleanField(_l("Remove this deadline"))

    @property
    def is_blank(self) -> bool:
        """Nothing typed in the row (its kind alone does not count)."""
        return not (self.due_on.raw_data and self.due_on.raw_data[0].strip()) and not (
            self.due_time.raw_data and self.due_time.raw_data[0].strip()
        )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.is_blank and not self.remove.data and self.due_on.data is None:
            if not self.due_on.errors:
                self.due_on.errors.append(_("Give the date of this deadline."))
            valid = False
        return valid

    def deadline(self) -> DeadlineInput | None:
        """The row as a deadline, or None when blank, removed or without a valid date."""
        if self.is_blank or self.remove.data or self.due_on.data is None:
            return None
        return DeadlineInput(
            kind=self.kind.data,
            due_on=self.due_on.data,
            due_time=self.due_time.data,
            time_zone=self.time_zone.data or None,
        )


class DeadlineRows:
    """Behaviour shared by forms with deadline rows: adding one, previews, reading them."""

    deadlines: FieldList
    deadlines_error: str | None = None

    def add_deadline_row(self) -> None:
        """One more blank row, for the "Add another deadline" button."""
        if len(self.deadlines) < MAX_DEADLINE_ROWS:
            self.deadlines.append_entry()

    def deadline_rows(self) -> list[tuple[int, DeadlineInput]]:
        """The typed deadlines, each with the index of its row."""
        rows = []
        for index, row in enumerate(self.deadlines):
            deadline = row.form.deadline()
            if deadline is not None:
                rows.append((index, deadline))
        return rows

    def attach_problems(self, problems: dict[str, str], row_of: list[int]) -> None:
        """Put each message of `check_listing` beside its field (or above the deadline rows)."""
        for key, message in problems.items():
            if key.startswith("deadlines."):
                _, position, name = key.split(".")
                field = getattr(self.deadlines[row_of[int(position)]].form, name)
            elif key == "deadlines":
                self.deadlines_error = str(message)
                continue
            else:
                field = getattr(self, key)
            if not field.errors:
                field.errors = [str(message)]

    def previews(self) -> dict[int, tuple[DeadlineInput, list[ReaderTime]]]:
        """Per row index, the deadline and how readers in Lima, Lagos, Nairobi and Dhaka see it."""
        previews = {}
        for index, deadline in self.deadline_rows():
            if deadline.due_time and not deadline.time_zone:
                continue
            previews[index] = (deadline, reader_times(deadline.due_at))
        return previews


class ListingFields(DeadlineRows):
    """Reading a listing out of the fields every listing form has."""

    def listing(self) -> tuple[ListingInput, list[int]]:
        """What was typed, and for each of its deadlines the index of the row it came from."""
        rows = self.deadline_rows()
        amount = parse_amount(self.funding_amount.data or "")
        listing = ListingInput(
            title=(self.title.data or "").strip(),
            kind=self.kind.data,
            description=(self.description.data or "").strip(),
            link=(self.link.data or "").strip(),
            countries=tuple(self.countries.data or ()),
            is_online=bool(self.is_online.data),
            place=(self.place.data or "").strip(),
            event_start_on=self.event_start_on.data,
            event_end_on=self.event_end_on.data,
            deadlines=tuple(deadline for _, deadline in rows),
            funding=Funding(
                travel=bool(self.offers_travel.data),
                accommodation=bool(self.offers_accommodation.data),
                fees=bool(self.offers_fees.data),
                stipend=bool(self.offers_stipend.data),
                amount=amount,
                currency=(self.funding_currency.data or "").upper() or None,
            ),
            eligibility=(self.eligibility.data or "").strip(),
            languages=(self.languages.data or "").strip(),
            feed_url=(self.feed_url.data or "").strip(),
        )
        return listing, [index for index, _ in rows]

    def fill_from(self, listing: ListingInput) -> None:
        """Show a stored listing in the fields (for the moderator's edit)."""
        for name in ("title", "kind", "description", "link", "place", "eligibility", "languages"):
            getattr(self, name).data = getattr(listing, name)
        self.feed_url.data = listing.feed_url
        self.countries.data = list(listing.countries)
        self.is_online.data = listing.is_online
        self.event_start_on.data = listing.event_start_on
        self.event_end_on.data = listing.event_end_on
        for kind in ("travel", "accommodation", "fees", "stipend"):
            getattr(self, f"offers_{kind}").data = getattr(listing.funding, kind)
        amount = listing.funding.amount
        self.funding_amount.data = f"{amount:f}" if amount is not None else ""
        self.funding_currency.data = listing.funding.currency or ""
        fill_deadline_rows(self.deadlines, [(None, d) for d in listing.deadlines])


def fill_deadline_rows(rows: FieldList, deadlines: list[tuple[int | None, DeadlineInput]]) -> None:
    """Replace the rows with these deadlines, plus one blank row to add another."""
    while len(rows):
        rows.pop_entry()
    for row_id, deadline in deadlines:
        rows.append_entry(
            {
                "row_id": str(row_id) if row_id is not None else "",
                "kind": deadline.kind,
                "due_on": deadline.due_on,
                "due_time": deadline.due_time,
                "time_zone": deadline.time_zone or "",
            }
        )
    rows.append_entry()


class ListingForm(ListingFields, FlaskForm):
    """Every field of a listing, as partners fill it in and moderators edit it."""

    organisation = StringField(
        _l("Organisation"),
        filters=[stripped],
        validators=[DataRequired(REQUIRED), longest(300), one_line],
    )
    contact_name = StringField(
        _l("Your name"),
        filters=[stripped],
        validators=[DataRequired(REQUIRED), longest(200), one_line],
    )
    contact_email = EmailField(
        _l("Your email address"),
        filters=[stripped],
        validators=[
            DataRequired(REQUIRED),
            one_line,
            longest(320),
            Email(_l("Enter an email address, like name@example.org."), check_deliverability=False),
        ],
    )
    title = StringField(
        _l("Title"), filters=[stripped], validators=[DataRequired(REQUIRED), longest(300), one_line]
    )
    kind = SelectField(
        _l("What it is"),
        choices=options((k, OPPORTUNITY_KIND_LABELS[k]) for k in OPPORTUNITY_KINDS),
        default="event",
    )
    description = TextAreaField(
        _l("Description"), filters=[stripped], validators=[DataRequired(REQUIRED), longest(10000)]
    )
    link = URLField(
        _l("Link to the full call"),
        filters=[stripped],
        validators=[DataRequired(REQUIRED), longest(2000)],
    )
    countries = SelectMultipleField(
        _l("Countries"),
        choices=options(country_choices()),
        widget=LongListSelect(country_choices, multiple=True),
    )
    is_online = BooleanField(_l("Online"))
    place = StringField(
        _l("City or venue (optional)"), filters=[stripped], validators=[longest(300), one_line]
    )
    event_start_on = Date(_l("First day"), validators=[Optional()])
    event_end_on = Date(_l("Last day"), validators=[Optional()])
    deadlines = FieldList(FormField(DeadlineForm), min_entries=2, max_entries=MAX_DEADLINE_ROWS)
    offers_travel = BooleanField(_l("Travel"))
    offers_accommodation = BooleanField(_l("Accommodation"))
    offers_fees = BooleanField(_l("Fees waived"))
    offers_stipend = BooleanField(_l("Stipend"))
    funding_amount = StringField(
        _l("Amount (optional)"), filters=[stripped], validators=[longest(20), one_line]
    )
    funding_currency = StringField(
        _l("Currency"), filters=[stripped], validators=[longest(3), one_line]
    )
    eligibility = TextAreaField(
        _l("Who can apply (optional)"), filters=[stripped], validators=[longest(2000)]
    )
    languages = StringField(
        _l("Languages (optional)"), filters=[stripped], validators=[longest(200), one_line]
    )
    feed_url = URLField(
        _l("Your organisation's RSS or Atom feed (optional)"),
        filters=[stripped],
        validators=[longest(2000), one_line],
    )

    def validate_funding_amount(self, field: StringField) -> None:
        if field.data and parse_amount(field.data) is None:
            raise ValidationError(_("Enter an amount in figures, like 1500."))

    def validate_funding_currency(self, field: StringField) -> None:
        if field.data and not field.errors and not is_currency(field.data):
            raise ValidationError(_("Enter a three-letter currency code, like EUR, USD or KES."))


class SubmissionForm(ListingForm):
    """The public form at /submit: a listing, plus the honeypot and the signed start time."""

    website = StringField(
        _l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )
    started = HiddenField()


class LoginForm(FlaskForm):
    """A moderator signing in."""

    email = EmailField(
        _l("Email address"), filters=[stripped], validators=[DataRequired(REQUIRED), longest(320)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), longest(500)])


class RejectForm(FlaskForm):
    """Turning a submission down: the reason is sent to the submitter."""

    reason = TextAreaField(
        _l("Reason (sent to the submitter)"),
        filters=[stripped],
        validators=[DataRequired(_l("Say why, so the submitter can fix it.")), longest(4000)],
    )


class ActionForm(FlaskForm):
    """A button that changes something (approve, hide, add a source): only its CSRF token."""


class CorrectionForm(DeadlineRows, FlaskForm):
    """A moderator's correction of any listed opportunity: kind, place and deadlines."""

    kind = SelectField(
        _l("What it is"),
        choices=options((k, OPPORTUNITY_KIND_LABELS[k]) for k in OPPORTUNITY_KINDS),
        default="event",
    )
    countries = SelectMultipleField(
        _l("Countries"),
        choices=options(country_choices()),
        widget=LongListSelect(country_choices, multiple=True),
    )
    is_online = BooleanField(_l("Online"))
    place = StringField(
        _l("City or venue"), filters=[stripped], validators=[longest(300), one_line]
    )
    deadlines = FieldList(FormField(DeadlineForm), min_entries=1, max_entries=MAX_DEADLINE_ROWS)

    def typed_deadlines(self) -> list[tuple[int | None, int, DeadlineInput]]:
        """(id of the row it edits, row index, deadline) for each deadline kept."""
        kept = []
        for index, deadline in self.deadline_rows():
            raw = self.deadlines[index].form.row_id.data or ""
            kept.append((int(raw) if raw.isdigit() else None, index, deadline))
        return kept


def form_errors(form: Form) -> list[tuple[str, str, str]]:
    """Every message of a form as (field id, label, message), for the summary above it."""
    found = []
    for field in form:
        if isinstance(field, FieldList):
            for row_number, row in enumerate(field, start=1):
                for sub in row.form:
                    for message in sub.errors:
                        label = _(
                            "Deadline %(number)d, %(field)s",
                            number=row_number,
                            field=sub.label.text,
                        )
                        found.append((sub.id, label, message))
            group = getattr(form, f"{field.name}_error", None)
            if group:
                found.append((field.id, _("Deadlines"), group))
            continue
        for message in field.errors:
            found.append((field.id, field.label.text, message))
    return found


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (a `<fieldset>` in the template): no JavaScript needed."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _subscriber_zone_pairs() -> list[tuple[str, str]]:
    zones = sorted(known_zones() - {"UTC"})
    return [("UTC", "UTC"), *((name, name.replace("_", " ")) for name in zones)]


class PreferencesForm(FlaskForm):
    """What a subscriber follows and how they are alerted: /subscribe and the manage page."""

    kinds = CheckboxesField(
        _l("Kinds of opportunity"),
        choices=options((k, OPPORTUNITY_KIND_LABELS[k]) for k in OPPORTUNITY_KINDS),
    )
    regions = CheckboxesField(_l("Regions"), choices=options(REGION_NAMES.items()))
    countries = SelectMultipleField(
        _l("Countries"),
        choices=options(country_choices()),
        widget=LongListSelect(country_choices, multiple=True),
    )
    keywords = StringField(
        _l("Keywords"),
        filters=[stripped],
        validators=[
            Length(
                max=MAX_KEYWORDS_TEXT,
                message=_l("Use at most %(max)d characters."),
            ),
            one_line,
        ],
    )
    funding = CheckboxesField(
        _l("Funding offered"),
        choices=options((k, FUNDING_LABELS[k]) for k in FUNDING_KINDS),
    )
    lead_days = CheckboxesField(
        _l("When to alert me"),
        choices=options((str(d), _l("%(num)d days before", num=d)) for d in LEAD_CHOICES),
        default=[str(d) for d in DEFAULT_LEAD_DAYS],
    )
    buffer_days = StringField(
        _l("Days you need before a deadline (optional)"),
        filters=[stripped],
        validators=[Length(max=3), one_line],
        render_kw={"inputmode": "numeric", "size": 4},
    )
    wants_digest = BooleanField(_l("Also send me a weekly digest of new listings"))
    time_zone = SelectField(
        _l("Your time zone"),
        choices=options(_subscriber_zone_pairs()),
        default="UTC",
        widget=LongListSelect(_subscriber_zone_pairs),
    )
    language = SelectField(
        _l("Language of the emails"), choices=options(LANGUAGES.items()), default="en"
    )

    def preferences(self, opportunity_ids: Iterable[int] = ()):
        """The checked preferences, or None after putting each problem beside its field."""
        try:
            return check_preferences(
                kinds=self.kinds.data or (),
                countries=self.countries.data or (),
                regions=self.regions.data or (),
                keywords=self.keywords.data or "",
                funding=self.funding.data or (),
                opportunity_ids=opportunity_ids,
                lead_days=self.lead_days.data or (),
                buffer_days=self.buffer_days.data,
                wants_digest=bool(self.wants_digest.data),
                time_zone=self.time_zone.data or "",
                language=self.language.data or "",
            )
        except PreferenceError as error:
            field = getattr(self, error.field, None)
            if field is not None and not field.errors:
                field.errors = [*field.errors, error.message]
            return None

    def fill_from(self, preferences) -> None:
        """Show stored (or prefilled) preferences in the fields."""
        self.kinds.data = list(preferences.kinds)
        self.regions.data = list(preferences.regions)
        self.countries.data = list(preferences.countries)
        self.keywords.data = ", ".join(preferences.keywords)
        self.funding.data = list(preferences.funding)
        self.lead_days.data = [str(d) for d in preferences.lead_days]
        self.buffer_days.data = str(preferences.buffer_days) if preferences.buffer_days else ""
        self.wants_digest.data = preferences.wants_digest
        self.time_zone.data = preferences.time_zone
        self.language.data = preferences.language


class AddressFields:
    """The subscriber's address and the honeypot, shared by /subscribe and "Remind me"."""

    email = EmailField(
        _l("Your email address"),
        filters=[stripped],
        validators=[DataRequired(_l("Enter your email address.")), one_line],
    )
    website = StringField(
        _l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )

    def validate_email(self, field: EmailField) -> None:
        try:
            field.data = normalise_email(field.data or "")
        except PreferenceError as error:
            raise StopValidation(error.message) from None


class SubscribeForm(AddressFields, PreferencesForm):
    """The public form at /subscribe: an address, preferences, and the honeypot."""


class ManageForm(PreferencesForm):
    """The manage page: the same preferences, plus which reminders to keep."""

    reminders = CheckboxesField(_l("Opportunities you asked to be reminded of"), coerce=int)


class RemindForm(AddressFields, Form):
    """ "Remind me" on an opportunity's page: only an address (and the honeypot).

    A plain WTForms form: the opportunity page is cached and shared between readers, so it
    cannot carry a per-session CSRF token (see `subscriptions.remind`).
    """
