"""Applying once (issue 12): a person's application for a service, from the explicit request to
fetch their data through the exchange, the preview with sources, their choices, the documents
shared from their locker and the form, to the tracking code, the tasks handed over to the
agencies as reliable messages, the timeline and the notices."""
