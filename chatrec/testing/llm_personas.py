"""Model personas for the LLM tests and ``chatrec bench llm``: a cooperative model (valid JSON,
catalog titles, true facts read off the prompt), a lying one, and the injected faults. The
adversarial corpus of lies and the honest phrasings are in ``llm_lies``."""

from __future__ import annotations

import re

from chatrec.testing.llm_servers import EchoSystem, Fail, Flood, Prose, RateLimited, Respond, Stall, Truncated

FACT_LINE = re.compile(r"^\d+\. (?P<title>.+?) \((?P<year>\d{4})\) \| facts: (?P<facts>.*)$", re.MULTILINE)
ID_LINE = re.compile(r"^- id (\S+):", re.MULTILINE)


def cooperative(seen):
    """Answers like a good model: valid JSON, catalog titles, true facts (read off the prompt)."""
    tools = seen.body.get("tools") or []
    tool = tools[0]["function"]["name"] if tools else ""
    prompt = seen.prompt_text
    if "rerank" in tool:
        shown = ID_LINE.findall(prompt)
        return Respond({"ranking": [{"id": i, "reason": "fits"} for i in reversed(shown[:5])]})
    if "reading" in tool:
        return Respond({"intent": "recommend", "genres": ["comedy"], "liked_titles": [],
                        "query_text": "a funny film"})
    sentences = []
    for m in FACT_LINE.finditer(prompt):
        facts = [f.strip() for f in m.group("facts").split(";")]
        person = next((f for f in facts if f.startswith(("directed by", "starring"))), None)
        claim = f"is {person}" if person else "is a good pick"
        sentences.append(f"**{m.group('title')}** ({m.group('year')}) {claim}.")
    return Respond(" ".join(sentences) or "Here you go.")


def lying(seen):
    """A model that invents titles and facts."""
    tools = seen.body.get("tools") or []
    tool = tools[0]["function"]["name"] if tools else ""
    if "rerank" in tool:
        return Respond({"ranking": [{"id": "999999999", "reason": "Fake Movie 9 by Quentin Tarantino"},
                                    {"id": "abc", "reason": "x"}]})
    if "reading" in tool:
        return Respond({"intent": "recommend", "liked_titles": ["Fake Movie 9", "Inception 2"],
                        "liked_people": ["Nobody McFakeface"], "year_min": 2037})
    return Respond("You will love **Fake Movie 9** (2031), directed by Steven Spielberg. "
                   "Also **Inception** (2010) by Quentin Tarantino.")


FAULTS = {
    "timeout": lambda: Stall(30),
    "http500": lambda: Fail(500),
    "429": lambda: RateLimited(60),
    "truncated": lambda: Truncated({"ranking": [{"id": "1", "reason": "x"}]}, keep=12),
    "prose": lambda: Prose("I think you would like a nice film, maybe something by Spielberg."),
    "echo": lambda: EchoSystem(),
    # servers that ignore max_tokens: 500 KB of sentences, and 500 KB that never ends one
    "flood": lambda: Flood("Heat (1995) is directed by Michael Mann. ", 500_000),
    "flood run-on": lambda: Flood("and then ", 500_000),
}
