"""Offer letters: sandboxed rendering to md/html/pdf (selection: ``letters.select``).

Templates live in ``letter_templates/`` and are Markdown with Jinja: a letter template
(``us/full_time.md.j2``) extends ``base.md.j2``, which extends the *layout* for the output
format (``layouts/markdown.j2`` or ``layouts/html.j2``; the renderer passes its name as
``layout``). HTML is the Markdown body converted by markdown-it inside the HTML layout; PDF
is that HTML printed by WeasyPrint.

Rendering runs in Jinja's ``ImmutableSandboxedEnvironment`` with ``StrictUndefined``: a
misspelled variable, a syntax error, an attribute the sandbox refuses (``''.__class__``) or a
blank where a value belongs is a ``LetterError`` (exit 2) naming the template file and line.

The **letter version** (``RenderedLetter.sha256``) is the sha256 of the UTF-8 bytes of the
Markdown rendering. It is the same for md, html and pdf output of one letter (so the PDF's
footer can print it) and changes whenever the wording, a value, the template or a clause
changes. ``RenderedLetter.content_sha256`` is the hash of the exact output bytes.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from offerctl.core.model import Offer, unreadable_in
from offerctl.letters.errors import LetterError
from offerctl.letters.select import Selection, rules, select
from offerctl.store import yamlio
from offerctl.store.clauses import CLAUSES_DIR, Clause, load_clauses, split_front_matter

if TYPE_CHECKING:
    from jinja2 import Environment

    from offerctl.store.repo import Repo

Format = Literal["md", "html", "pdf"]
FORMATS: tuple[str, ...] = ("md", "html", "pdf")
TEMPLATE_SUFFIX = ".md.j2"
LAYOUTS = {"md": "layouts/markdown.j2", "html": "layouts/html.j2"}
LETTER_PAPER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO"})


@dataclass(frozen=True)
class RenderedLetter:
    content: bytes
    sha256: str
    """Letter version: sha256 of the Markdown rendering (same for md, html and pdf)."""
    template: str
    """Template path relative to ``letter_templates/``."""
    fmt: str
    content_sha256: str = ""
    """sha256 of ``content`` itself."""
    locale: str = "en_US"
    selection: Selection | None = None
    draft: bool = False
    """Rendered with the DRAFT watermark (the offer is not approved)."""


# --- the DRAFT watermark -----------------------------------------------------------------
# A letter of an offer that is not approved yet carries it in every format, so a draft that
# leaves the building by mistake cannot pass for an offer. It is added after the template
# has rendered (user templates and layouts need nothing), and never to an approved offer's
# letter, whose bytes and version stay exactly what they were.

DRAFT_BANNER = {
    "en": ("DRAFT", "not approved; this letter is not an offer of employment"),
    "de": ("ENTWURF", "nicht genehmigt; dieses Schreiben ist kein Vertragsangebot"),
}
DRAFT_STATUSES = frozenset({"draft", "pending_approval"})
_DRAFT_CSS = (
    "<style>.offerctl-draft{position:fixed;top:38%;left:-10%;right:-10%;text-align:center;"
    "transform:rotate(-35deg);font:bold 110pt 'Liberation Sans','DejaVu Sans',sans-serif;"
    "letter-spacing:8pt;color:rgba(185,28,28,0.16);z-index:1000}"
    ".offerctl-draft-note{border:1.5pt solid #b91c1c;color:#b91c1c;padding:2mm 4mm;"
    "margin:0 0 6mm 0;font:bold 10pt 'Liberation Sans','DejaVu Sans',sans-serif}</style>"
)


def _banner(locale: str) -> tuple[str, str]:
    return DRAFT_BANNER.get(locale.split("_")[0].lower(), DRAFT_BANNER["en"])


def watermark_markdown(text: str, locale: str) -> str:
    word, note = _banner(locale)
    return f"> **{word}** — {note}\n\n{text}"


def watermark_html(text: str, locale: str) -> str:
    """The word across every page (``position: fixed`` repeats on each printed page) and a
    boxed note at the top."""
    import html

    word, note = _banner(locale)
    mark = (
        f'<div class="offerctl-draft" aria-hidden="true">{html.escape(word)}</div>'
        f'<p class="offerctl-draft-note">{html.escape(word)} — {html.escape(note)}</p>'
    )
    if "</head>" in text:
        text = text.replace("</head>", _DRAFT_CSS + "</head>", 1)
    else:
        mark = _DRAFT_CSS + mark
    body = re.search(r"<body[^>]*>", text)
    if body is None:
        return mark + text
    return text[: body.end()] + mark + text[body.end() :]


# --- rendering ---------------------------------------------------------------------------


class _EmptyValue(Exception):
    pass


def _finalize_md(value: Any) -> Any:
    if value is None:
        raise _EmptyValue()
    return value


_MD_ACTIVE = re.compile(r"[\\`*_\[\]#!|~]")


def _finalize_html(value: Any) -> Any:
    """Autoescape, and neutralise Markdown syntax in values: data can never become markup."""
    from markupsafe import Markup, escape

    if value is None:
        raise _EmptyValue()
    if isinstance(value, Markup):
        return value
    # Exactly one escape per character: Markdown punctuation becomes a numeric reference,
    # everything else goes through HTML escaping. (Escaping the HTML first and then the
    # Markdown turned the '#' of "&#39;" into "&#35;": "O&#39;Brien" in the letter.)
    text = str(value)
    out: list[str] = []
    last = 0
    for match in _MD_ACTIVE.finditer(text):
        out.append(str(escape(text[last : match.start()])))
        out.append(f"&#{ord(match.group(0))};")
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def _markdown_to_html(value: Any) -> Any:
    from markdown_it import MarkdownIt
    from markupsafe import Markup

    # A printed letter needs no Markdown links or images; without them, text a template
    # builds with `~` (HTML-escaped but not Markdown-neutralised) cannot become a link either.
    parser = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")
    parser.disable(["link", "image", "autolink"])
    return Markup(parser.render(str(value)))


# --- limits on what a template may cost (issue 12: nested range(100000) hung, and
# ('x'*100000)*100000 reached 20 GB) ------------------------------------------------------

MAX_RANGE = 10_000
"""Largest ``range()`` a template may build (Jinja's own sandbox allows 100,000)."""
MAX_SIZE = 200_000
"""Largest string or list a template may build (by *, +, %, padding filters and methods)."""
MAX_STEPS = 1_000_000
"""Loop iterations over ranges plus attribute look-ups in one letter."""
MAX_OUTPUT = 2_000_000


def _render_capped(template: Any, context: Mapping[str, Any]) -> str:
    """Render in pieces and stop as soon as the output passes ``MAX_OUTPUT``: a template
    that would write 500 MB fails at 2 MB instead of first building the whole string."""
    parts: list[str] = []
    size = 0
    for piece in template.generate(context):
        size += len(piece)
        if size > MAX_OUTPUT:
            raise TemplateLimit(f"the letter is over {MAX_OUTPUT:,} characters (at most {MAX_OUTPUT:,})")
        parts.append(piece)
    return "".join(parts)
"""Largest rendered letter, in characters (a long letter is ~20,000)."""
RENDER_SECONDS = 10.0
"""Wall-clock limit for one letter (a backstop: the limits above end most runaway templates
far sooner)."""
_WIDTH = re.compile(r"[0-9]{6,}")
_PADDERS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "indent", "wordwrap", "truncate"})


class TemplateLimit(Exception):
    """A template went over one of the limits above (L420)."""


@dataclass
class _Budget:
    steps: int = 0
    deadline: float = 0.0

    def spend(self, n: int = 1) -> None:
        import time

        self.steps += n
        if self.steps > MAX_STEPS:
            raise TemplateLimit(f"the template did more than {MAX_STEPS:,} loop steps or look-ups")
        if self.deadline and not self.steps % 1024 and time.monotonic() > self.deadline:
            raise TemplateLimit(f"the template ran longer than {RENDER_SECONDS:g} s")


_BUDGET: contextvars.ContextVar[_Budget] = contextvars.ContextVar("offerctl_letter_budget")


def _budget() -> _Budget:
    """The budget of the letter being rendered (``bounded_render``); none outside one."""
    return _BUDGET.get(None) or _Budget()


def _sized(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_SIZE:
        raise TemplateLimit(f"the template built a value of {len(value):,} items (at most {MAX_SIZE:,})")
    return value


def _bounded_range(*args: int) -> Any:
    """``range`` for templates: at most ``MAX_RANGE`` items, each one charged to the budget."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateLimit(f"range() of {len(numbers):,} items (at most {MAX_RANGE:,})")
    budget = _budget()
    for number in numbers:
        budget.spend()
        yield number


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse before computing: repetition, powers, concatenation and %-formatting that would
    build something larger than ``MAX_SIZE``."""
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_SIZE:
                raise TemplateLimit(f"repeating {len(seq):,} items {times:,} times (at most {MAX_SIZE:,})")
    elif operator == "**" and isinstance(left, int | float) and isinstance(right, int | float):
        # Jinja's ** is left-associative: ((9**9)**9)**9 grows the digits, not the exponent
        bits = abs(left).bit_length() if isinstance(left, int) else 0  # floats overflow instead
        if bits > 1 and bits * abs(right) > 100_000:
            raise TemplateLimit("a power whose result would have more than 100,000 bits")
    elif (
        operator == "+"
        and isinstance(left, str | list | tuple)
        and isinstance(right, str | list | tuple)
        and len(left) + len(right) > MAX_SIZE
    ):
        raise TemplateLimit(f"joining values of more than {MAX_SIZE:,} items")
    elif operator == "%" and isinstance(left, str) and _WIDTH.search(left):
        raise TemplateLimit("a %-format with a field width of six digits or more")


def _check_call(obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    name = getattr(obj, "__name__", "")
    values = [*args, *kwargs.values()]
    if name in _PADDERS and any(isinstance(v, int) and v > MAX_SIZE for v in values):
        raise TemplateLimit(f"{name}() to a width above {MAX_SIZE:,}")
    owner = getattr(getattr(obj, "__wrapped__", obj), "__self__", None)  # the sandbox wraps str.format
    if name in {"format", "format_map"} and isinstance(owner, str) and _WIDTH.search(owner):
        raise TemplateLimit("a format with a field width of six digits or more")


def _environment(templates_dir: Path, fmt: str) -> Environment:
    from jinja2 import FileSystemLoader, StrictUndefined, pass_context
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Bounded(ImmutableSandboxedEnvironment):
        """The sandbox plus size, step and time limits (``MAX_*``, ``RENDER_SECONDS``)."""

        intercepted_binops = frozenset({"*", "**", "+", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_binop(operator, left, right)
            return _sized(super().call_binop(context, operator, left, right))

        def getattr(self, obj: Any, attribute: str) -> Any:
            _budget().spend()
            return _sized(super().getattr(obj, attribute))

        def getitem(self, obj: Any, argument: Any) -> Any:
            _budget().spend()
            return _sized(super().getitem(obj, argument))

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            _budget().spend()
            _check_call(__obj, args, kwargs)
            return _sized(super().call(__context, __obj, *args, **kwargs))

    from offerctl.letters import filters

    class Loader(FileSystemLoader):
        def get_source(self, environment: Any, template: str) -> Any:
            source, filename, uptodate = super().get_source(environment, template)
            if template.startswith(f"{CLAUSES_DIR}/"):
                source = split_front_matter(source)[1]
            return source, filename, uptodate

    html = fmt != "md"
    env = Bounded(
        loader=Loader(str(templates_dir)),
        undefined=StrictUndefined,
        autoescape=html,
        finalize=_finalize_html if html else _finalize_md,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    for name, function in filters.context_filters().items():
        env.filters[name] = pass_context(_strict(function, context=True))
    for name, function in filters.plain_filters().items():
        env.filters[name] = _strict(function)
    env.globals["range"] = _bounded_range
    for name in _PADDERS & set(env.filters):
        env.filters[name] = _limited_filter(env.filters[name])
    env.filters["format"] = _limited_filter(env.filters["format"], format_string=True)
    env.filters["markdown"] = _markdown_to_html
    env.filters["with_defaults"] = _with_defaults
    env.filters["css_string"] = _css_string
    return env


def _limited_filter(function: Callable[..., Any], *, format_string: bool = False) -> Callable[..., Any]:
    """A padding/format filter that refuses widths above ``MAX_SIZE`` before allocating."""
    import functools

    @functools.wraps(function)
    def limited(*args: Any, **kwargs: Any) -> Any:
        values = [*args[1:], *kwargs.values()]
        if any(isinstance(v, int) and not isinstance(v, bool) and v > MAX_SIZE for v in values):
            raise TemplateLimit(f"{function.__name__} to a width above {MAX_SIZE:,}")
        if format_string and args and isinstance(args[0], str) and _WIDTH.search(args[0]):
            raise TemplateLimit("a format with a field width of six digits or more")
        return _sized(function(*args, **kwargs))

    return limited


@contextlib.contextmanager
def bounded_render() -> Iterator[None]:
    """A fresh step budget and a deadline for one letter; in the main thread a SIGALRM
    backstop also stops a template stuck in one long operation."""
    import signal
    import threading
    import time

    token = _BUDGET.set(_Budget(0, time.monotonic() + RENDER_SECONDS))
    alarm = (
        threading.current_thread() is threading.main_thread()
        and hasattr(signal, "setitimer")
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )
    previous: Any = None

    def expire(signum: int, frame: Any) -> None:
        raise TemplateLimit(f"the template ran longer than {RENDER_SECONDS:g} s")

    if alarm:
        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, RENDER_SECONDS + 1)
    try:
        yield
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        _BUDGET.reset(token)


def _strict(function: Callable[..., Any], *, context: bool = False) -> Callable[..., Any]:
    """A filter that fails like StrictUndefined when given an undefined name (L402), instead of
    formatting the Undefined object."""
    from jinja2 import Undefined

    def strict(*args: Any, **kwargs: Any) -> Any:
        for value in [*args[1 if context else 0 :], *kwargs.values()]:
            if isinstance(value, Undefined):
                value._fail_with_undefined_error()
        return function(*args, **kwargs)

    strict.__name__ = getattr(function, "__name__", "filter")
    strict.__doc__ = function.__doc__
    return strict


def _with_defaults(values: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``{% set words = words | default({}) | with_defaults({...}) %}``: a child's words win."""
    return {**defaults, **(values if isinstance(values, Mapping) else {})}


def _css_string(value: Any) -> Any:
    """A quoted CSS string (for ``@page`` footers): cannot close the string or the style."""
    from markupsafe import Markup

    if isinstance(value, Markup):
        value = value.unescape()
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    text = text.replace("<", "\\3C ").replace(">", "\\3E ")
    return Markup(f'"{text}"')


def problem_from(exc: BaseException, repo_root: Path, fallback: str) -> LetterError:
    """Any exception raised while rendering → LetterError with the template file and line."""
    from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError

    from offerctl.letters.filters import FilterProblem

    templates = (repo_root / "letter_templates").resolve()
    path, line = fallback, None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        try:
            rel = Path(filename).resolve().relative_to(templates)
        except (ValueError, OSError):
            rel = None
        if rel is not None:
            path, line = f"letter_templates/{rel.as_posix()}", tb.tb_lineno
        tb = tb.tb_next
    if isinstance(exc, TemplateSyntaxError):
        if exc.filename:
            with contextlib.suppress(ValueError):
                path = "letter_templates/" + Path(exc.filename).resolve().relative_to(templates).as_posix()
        return LetterError(
            f"template syntax error: {exc.message}",
            hint="fix the Jinja syntax at this line",
            path=path,
            line=exc.lineno,
            code="L401",
        )
    known: tuple[tuple[type[BaseException], str, str, str], ...] = (
        (TemplateNotFound, "template {name!r} not found in letter_templates/",
         "check the name (paths are relative to letter_templates/)", "L403"),
        (TemplateLimit, "the template went over a limit: {exc}",
         "letters are bounded in size, loop steps and time (docs/letters.md, 'Limits')", "L420"),
        (SecurityError, "the template sandbox refused: {exc}",
         "templates may only read offer data and use the documented filters", "L408"),
        (UndefinedError, "undefined variable: {message}",
         "check the spelling; README 'Letters' lists the variables templates can use", "L402"),
        (_EmptyValue, "the template prints an empty value (an optional field this offer does not have)",
         "guard it: {% if compensation.sign_on_bonus %}…{% endif %}", "L413"),
    )  # fmt: skip
    for kind, message, hint, code in known:
        if isinstance(exc, kind):
            text = message.format(
                exc=exc, name=getattr(exc, "name", None), message=getattr(exc, "message", None)
            )
            return LetterError(text, hint=hint, path=path, line=line, code=code)
    if isinstance(exc, FilterProblem):
        return LetterError(exc.message, path=path, line=line, code=exc.code)
    return LetterError(f"template error: {type(exc).__name__}: {exc}", path=path, line=line, code="L412")


class Letters:
    """One repository's letter machinery: environments, clauses and rules, built once."""

    def __init__(self, root: Path, config: Mapping[str, Any]) -> None:
        self.root = Path(root)
        self.config = config
        self.templates_dir = self.root / "letter_templates"
        self.clauses, self.clause_findings = load_clauses(self.root)
        self._envs: dict[str, Environment] = {}
        self._template_exists: dict[str, bool] = {}

    @classmethod
    def for_repo(cls, repo: Repo) -> Letters:
        return cls(repo.root, repo.config)

    def env(self, fmt: str) -> Environment:
        kind = "md" if fmt == "md" else "html"
        if kind not in self._envs:
            self._envs[kind] = _environment(self.templates_dir, kind)
        return self._envs[kind]

    # --- context -------------------------------------------------------------------------

    def locale_for(self, offer: Offer) -> str:
        explicit = offer.get("letter.locale")
        if isinstance(explicit, str) and explicit:
            return explicit
        country = offer.get("role.location.country")
        value = get_setting(self.config, f"defaults.locale_by_country.{country}")
        return str(value) if value else "en_US"

    def page_size_for(self, country: Any) -> str:
        configured = get_setting(self.config, f"letters.page_size_by_country.{country}")
        if isinstance(configured, str):
            return configured
        return "letter" if country in LETTER_PAPER_COUNTRIES else "A4"

    def check_inputs(self, offer: Offer) -> list[LetterError]:
        """Problems with the offer's letter inputs (clauses, currency, locale), each with its line."""
        from babel import UnknownLocaleError

        from offerctl.letters.filters import babel_locale, is_known_currency

        problems: list[LetterError] = []
        country, region = offer.get("role.location.country"), offer.get("role.location.region")
        for index, clause_id in enumerate(offer.get("clauses") or []):
            clause = self.clauses.get(clause_id)
            if clause is None:
                known = ", ".join(sorted(self.clauses)) or "none"
                problems.append(
                    LetterError(
                        f"unknown clause {clause_id!r} (known: {known})",
                        hint="fix the id or add letter_templates/clauses/<id>.md",
                        path=offer.path,
                        line=yamlio.line_in_file(self.root / offer.path, ["clauses", index]),
                        code="L404",
                    )
                )
            elif not clause.applies_to(country, region):
                problems.append(
                    LetterError(
                        f"clause {clause_id!r} applies to {', '.join(clause.jurisdictions)}, "
                        f"not to {country}-{region}",
                        hint="remove it from this offer, or extend the clause's jurisdictions",
                        path=offer.path,
                        line=yamlio.line_in_file(self.root / offer.path, ["clauses", index]),
                        code="L405",
                    )
                )
        currency = offer.compensation().get("currency")
        if isinstance(currency, str) and not is_known_currency(currency):
            problems.append(
                LetterError(
                    f"currency {currency!r} is not an ISO 4217 currency Babel knows",
                    hint="use a three-letter ISO 4217 code such as USD or EUR",
                    path=offer.path,
                    line=yamlio.line_in_file(self.root / offer.path, ["compensation", "currency"]),
                    code="L409",
                )
            )
        locale = self.locale_for(offer)
        try:
            babel_locale(locale)
        except (UnknownLocaleError, ValueError):
            problems.append(
                LetterError(
                    f"locale {locale!r} is unknown to Babel",
                    hint="use a locale like en_US or de_DE (letter.locale or defaults.locale_by_country)",
                    path=offer.path,
                    line=yamlio.line_in_file(self.root / offer.path, ["letter", "locale"]),
                    code="L409",
                )
            )
        return problems

    def context(
        self, offer: Offer, template: str, fmt: str, *, written_on: dt.date | None = None
    ) -> dict[str, Any]:
        from offerctl.store import schema

        data = _normalise(offer.data, schema.schema("offer"))
        locale = self.locale_for(offer)
        country = offer.get("role.location.country")
        company = _normalise(self.config.get("company") or {}, schema.subschema("config", ["company"]))
        letter = {
            "id": offer.id,
            "date": letter_date(offer, written_on).isoformat(),
            "locale": locale,
            "language": locale.split("_")[0],
            "currency": offer.compensation().get("currency"),
            "page_size": self.page_size_for(country),
            "template": template,
            "format": fmt,
        }
        return {
            "offer": data,
            "candidate": data.get("candidate"),
            "role": data.get("role"),
            "compensation": data.get("compensation"),
            "start_date": data.get("start_date"),
            "expires_on": data.get("expires_on"),
            "company": company,
            "signatory": company.get("signatory"),
            "letter": letter,
            "contingencies": contingency_list(offer.data),
        }

    def _clauses(self, env: Environment, offer: Offer, context: Mapping[str, Any], html: bool) -> list[Any]:
        return [self._clause(env, self.clauses[c], context, html) for c in offer.get("clauses") or []]

    def _clause(self, env: Environment, clause: Clause, context: Mapping[str, Any], html: bool) -> Any:
        from markupsafe import Markup

        name, title = clause.template_for(context["letter"]["language"])
        text = _render_capped(env.get_template(name), context).strip() + "\n"
        return {
            "id": clause.id,
            "title": title,
            "standard": clause.standard,
            "text": Markup(text) if html else text,
        }

    def _clause_function(self, env: Environment, context: Mapping[str, Any], html: bool) -> Any:
        """``{{ clause("at_will").text }}``: a template includes a clause by id (L404 if unknown)."""
        from offerctl.letters.filters import FilterProblem

        def clause(clause_id: str) -> Any:
            found = self.clauses.get(clause_id)
            if found is None:
                known = ", ".join(sorted(self.clauses)) or "none"
                raise FilterProblem(f"unknown clause {clause_id!r} (known: {known})", "L404")
            return self._clause(env, found, context, html)

        return clause

    def render_text(
        self,
        offer: Offer,
        template: str,
        fmt: str,
        *,
        written_on: dt.date | None = None,
        version: str | None = None,
        data_override: Mapping[str, Any] | None = None,
    ) -> str:
        """The md or html text of one letter. Raises ``LetterError``."""
        source = Offer(offer.path, data_override, offer.blob) if data_override is not None else offer
        hidden = unreadable_in(source.data)
        if hidden is not None:  # a letter never shows a marker where the candidate's data belongs
            raise hidden.refuse()
        env = self.env(fmt)
        fallback = f"letter_templates/{template}"
        try:
            context = self.context(source, template, fmt, written_on=written_on)
            context["layout"] = LAYOUTS["md" if fmt == "md" else "html"]
            if version is not None:
                context["letter"]["version"] = version
            with bounded_render():
                context["clauses"] = self._clauses(env, source, context, fmt != "md")
                context["clause"] = self._clause_function(env, context, fmt != "md")
                text = _render_capped(env.get_template(template), context)
        except LetterError:
            raise
        except Exception as exc:
            raise problem_from(exc, self.root, fallback) from None
        return _tidy(text)

    def template_language(self, template: str) -> tuple[str, str] | None:
        """The language a template is written in and the file that says so: a
        ``language: xx`` line in the template's leading ``{# … #}`` comment, else the one
        of the template it ``{% extends %}`` (by a quoted name), and so on. None when no
        template in the chain declares one."""
        cache = self.__dict__.setdefault("_languages", {})
        if template in cache:
            return cache[template]  # type: ignore[no-any-return]
        found: tuple[str, str] | None = None
        name, seen = template, set()
        while name and name not in seen:
            seen.add(name)
            path = self.templates_dir / name
            try:
                source = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                break
            head = re.match(r"\s*\{#-?(.*?)-?#\}", source, re.S)
            declared = re.search(r"(?m)^\s*language:\s*([A-Za-z]{2,3})\s*$", head.group(1)) if head else None
            if declared:
                found = (declared.group(1).lower(), f"letter_templates/{name}")
                break
            parent = re.search(r"\{%-?\s*extends\s+[\"']([^\"']+)[\"']", source)
            name = parent.group(1) if parent else ""
        cache[template] = found
        return found

    def selection(self, offer: Offer) -> Selection:
        """``select`` plus a check that the chosen template exists (L403 at the line that chose it)."""
        chosen = select(self.config, offer)
        exists = self._template_exists.get(chosen.template)
        if exists is None:  # resolved once per template name and Letters (one check run)
            candidate = (self.templates_dir / chosen.template).resolve()
            inside = candidate.is_relative_to(self.templates_dir.resolve()) and ".." not in chosen.template
            exists = self._template_exists[chosen.template] = inside and candidate.is_file()
        if not exists:
            if chosen.rule is None:
                path, line = offer.path, yamlio.line_in_file(self.root / offer.path, ["letter", "template"])
                hint = "fix letter.template in the offer (paths are relative to letter_templates/)"
            else:
                index = next((r.index for r in rules(self.config) if r.id == chosen.rule), 0)
                path = "offerctl.yaml"
                line = yamlio.line_in_file(self.root / path, ["letters", "rules", index, "template"])
                hint = f"create letter_templates/{chosen.template} or fix the rule in offerctl.yaml"
            raise LetterError(
                f"letter template {chosen.template!r} does not exist in letter_templates/",
                hint=hint,
                path=path,
                line=line,
                code="L403",
            )
        return chosen

    def render(
        self, offer: Offer, fmt: str, *, written_on: dt.date | None = None, draft: bool = False
    ) -> RenderedLetter:
        if fmt not in FORMATS:
            raise LetterError(f"unknown letter format {fmt!r}; use md, html or pdf", code="L412")
        problems = self.check_inputs(offer)
        if problems:
            raise problems[0]
        selection = self.selection(offer)
        template = selection.template
        locale = self.locale_for(offer)
        markdown = self.render_text(offer, template, "md", written_on=written_on)
        if draft:
            markdown = watermark_markdown(markdown, locale)
        version = hashlib.sha256(markdown.encode("utf-8")).hexdigest()
        if fmt == "md":
            content = markdown.encode("utf-8")
        else:
            html = self.render_text(offer, template, "html", written_on=written_on, version=version)
            if draft:
                html = watermark_html(html, locale)
            dated = letter_date(offer, written_on)
            content = html.encode("utf-8") if fmt == "html" else self._pdf(html, dated)
        return RenderedLetter(
            content,
            version,
            template,
            fmt,
            hashlib.sha256(content).hexdigest(),
            locale,
            selection,
            draft,
        )

    def _pdf(self, html: str, dated: dt.date) -> bytes:
        try:
            from weasyprint import HTML
        except (ImportError, OSError) as exc:  # pragma: no cover - depends on system libraries
            raise LetterError(
                f"PDF output needs WeasyPrint and its system libraries (pango): {exc}",
                hint="install pango (Debian: libpango-1.0-0 libpangoft2-1.0-0), or render --format html",
                code="L412",
            ) from None
        document = HTML(string=html, base_url=str(self.templates_dir), url_fetcher=self._fetch)
        with _source_date(dated):
            pdf: bytes = document.write_pdf()
        return pdf

    def _fetch(self, url: str, *args: Any, **kwargs: Any) -> Any:
        """Only files inside letter_templates/ (logos, fonts): rendering never uses the network."""
        from weasyprint.urls import default_url_fetcher

        if url.startswith("data:"):
            return default_url_fetcher(url, *args, **kwargs)
        if url.startswith("file://"):
            path = Path(url[len("file://") :]).resolve()
            if path.is_relative_to(self.templates_dir.resolve()):
                return default_url_fetcher(url, *args, **kwargs)
        raise LetterError(
            f"letter refers to {url}; only files inside letter_templates/ may be used",
            code="L408",
        )


def render(
    repo: Repo,
    offer: Offer,
    fmt: Literal["md", "html", "pdf"],
    *,
    written_on: dt.date | None = None,
    draft: bool = False,
) -> RenderedLetter:
    """Render ``offer``'s letter.

    ``written_on`` dates the letter (default: the ``written_on`` of the last ``sent`` event,
    else the date of the latest approval or event). ``draft``: add the DRAFT watermark.
    Raises ``LetterError`` (an InputError, exit 2) naming the template file and line.
    """
    return Letters.for_repo(repo).render(offer, fmt, written_on=written_on, draft=draft)


def is_draft(repo: Repo, offer: Offer) -> bool:
    """Whether ``offer``'s letter is not approved and must carry the DRAFT watermark: a draft
    or pending offer, or one in negotiation whose revised terms lack fresh approvals (the
    same judgement as ``send``; a policy with errors counts as not approved)."""
    if offer.status in DRAFT_STATUSES:
        return True
    if offer.status != "negotiating":
        return False
    from offerctl.core.model import Severity
    from offerctl.policy.load import load_policy_set
    from offerctl.policy.routing import route

    policy, findings = load_policy_set(repo)
    if any(f.severity == Severity.ERROR for f in findings):
        return True
    return bool(route(repo, policy, offer).blockers())


@contextlib.contextmanager
def _source_date(day: dt.date) -> Iterator[None]:
    """Date embedded font subsets by the letter, not the clock.

    Without the HarfBuzz subsetting library WeasyPrint subsets fonts with fontTools, which
    stamps each subset's ``head.modified`` with the current time unless ``SOURCE_DATE_EPOCH``
    is set (the reproducible-builds convention), so two renders differed. With it set to the
    letter's date the PDF is byte-identical whichever subsetter runs.
    """
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()))
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


RECORD_EVENTS = frozenset({"touch", "competing_offer", "contingency"})


def letter_date(offer: Offer, written_on: dt.date | None = None) -> dt.date:
    """The date printed on the letter and stored in the PDF metadata — never the clock."""
    if written_on is not None:
        return written_on
    events = [e for e in offer.get("events") or [] if isinstance(e, Mapping)]
    for event in reversed(events):
        if event.get("type") == "sent":
            value = event.get("written_on") or str(event.get("at", ""))[:10]
            return dt.date.fromisoformat(value)
    # Conversations with the candidate (touches, competing offers learned, contingency
    # progress) are not changes of the offer: they do not re-date its letter.
    terms = [e for e in events if e.get("type") not in RECORD_EVENTS]
    stamps = [str(item.get("at", ""))[:10] for item in [*terms, *(offer.get("approvals") or [])]]
    stamps = [s for s in stamps if re.match(r"^\d{4}-\d{2}-\d{2}$", s)]
    if stamps:
        return dt.date.fromisoformat(max(stamps))
    for key in ("verbal.date", "expires_on", "start_date"):
        value = offer.get(key)
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
    return dt.date(1970, 1, 1)


def get_setting(config: Mapping[str, Any], dotted: str) -> Any:
    from offerctl.core.model import get_path

    return get_path(config, dotted)


def contingency_list(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """``contingencies`` in letter templates: every condition recorded on the offer (``offerctl
    contingency``) that has not failed, as ``{kind, label}`` — without its status, so clearing a
    background check does not change the letter's text (and version)."""
    from offerctl.core.workflow import contingencies

    return [{"kind": c.kind, "label": c.label} for c in contingencies(data) if c.status != "failed"]


def _normalise(data: Any, schema_node: Mapping[str, Any] | None) -> Any:
    """Offer data with every optional field the schema knows present (None when absent),
    so templates can test ``{% if compensation.sign_on_bonus %}`` while a misspelled name
    is still an error under StrictUndefined."""
    if not isinstance(data, Mapping):
        return data
    props = schema_node.get("properties") if isinstance(schema_node, Mapping) else None
    result: dict[str, Any] = {}
    if isinstance(props, Mapping):
        for key, sub in props.items():
            result[key] = _normalise(data[key], sub) if key in data else None
    for key, value in data.items():
        if key not in result:
            result[key] = value
    return result


def _tidy(text: str) -> str:
    """Stable bytes: no trailing spaces, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def letter_templates(root: Path) -> list[str]:
    """Every letter template (``*.md.j2`` outside ``layouts/`` and ``clauses/``)."""
    directory = root / "letter_templates"
    if not directory.is_dir():
        return []
    names = []
    for path in sorted(directory.rglob(f"*{TEMPLATE_SUFFIX}")):
        rel = path.relative_to(directory).as_posix()
        if rel.startswith(("layouts/", f"{CLAUSES_DIR}/")) or path.name.startswith("_"):
            continue
        names.append(rel)
    return names


def render_offer(
    repo: Repo, offer_id: str, fmt: Literal["md", "html", "pdf"], *, written_on: dt.date | None = None
) -> tuple[Offer, RenderedLetter]:
    """``offerctl render``: load one offer by id and render its letter (with the DRAFT
    watermark while the offer is not approved)."""
    from offerctl.store import loader

    offer = loader.load_offer(repo, offer_id)
    return offer, render(repo, offer, fmt, written_on=written_on, draft=is_draft(repo, offer))


def write_output(path: Path, content: bytes) -> None:
    """Write a rendered letter atomically (``yamlio.atomic_write_bytes``: temp file, rename)."""
    from offerctl.store import yamlio

    yamlio.atomic_write_bytes(path, content)


def summary(offer: Offer, letter: RenderedLetter, output: str | None) -> dict[str, Any]:
    """What ``render --format json`` prints."""
    return {
        "offer": offer.id,
        "template": letter.template,
        "format": letter.fmt,
        "locale": letter.locale,
        "letter_version": letter.sha256,
        "content_sha256": letter.content_sha256,
        "bytes": len(letter.content),
        "output": output,
        "selection": letter.selection.as_json() if letter.selection else None,
        "draft": letter.draft,
    }
