#!/usr/bin/env python3
"""Checks a rendered postmortem for the golden test.

  check_draft.py schema <schema.json> <draft.json>   validates the JSON draft (jsonschema)
  check_draft.py html <page.html>                    checks the HTML is well-formed

Prints what is wrong and exits 1, or exits 0 silently.
"""
import json
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class WellFormed(HTMLParser):
    """Every element closed, in order; nothing closed that was not open."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.errors = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            open_tag = self.stack[-1] if self.stack else None
            self.errors.append(f"line {self.getpos()[0]}: </{tag}> closes {open_tag}")
            return
        self.stack.pop()


def check_html(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if not text.lstrip().lower().startswith("<!doctype html>"):
        return ["no <!doctype html> at the start"]
    parser = WellFormed()
    parser.feed(text)
    parser.close()
    errors = parser.errors
    errors += [f"<{tag}> opened at line {pos[0]} is never closed" for tag, pos in parser.stack]
    return errors


def check_schema(schema_path, draft_path):
    import jsonschema  # Debian python3-jsonschema

    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    with open(draft_path, encoding="utf-8") as f:
        draft = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(draft)]


def main(argv):
    if len(argv) == 4 and argv[1] == "schema":
        errors = check_schema(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "html":
        errors = check_html(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
