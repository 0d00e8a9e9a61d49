"""The web layer every person-facing page shares: the base template and styles, the message
catalogue in Persian and English, the one Jalali date formatter, the Jinja2 environment and the
CSRF protection of forms. Persian is the default language (``dir=rtl``); ``?lang=en`` switches."""
