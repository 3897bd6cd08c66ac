"""One date format and one date-and-time format on every page, in both languages.

Django's own formats differ from page to page (English: "Dec. 1, 2026" for DATE_FORMAT,
"12/01/2026" for SHORT_DATE_FORMAT; Chinese: "2026年12月1日" and "2026/12/01"), and the
pages also print ISO dates where a date is an identifier (filters, ranges, CSV). So every
date reads as ISO 8601 — 2026-12-01, and 2026-12-01 14:30 with a time — in English and in
Chinese: unambiguous in both, sortable, and the same as what staff type into the date
fields. Month and weekday names (calendar headings) stay in the language's words.
"""
