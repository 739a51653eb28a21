"""
Claims that health-marketing rules treat as unfounded, which an article may not
make. The publish checks (pages/publish_checks.py) refuse to publish an article
that makes one, and quote the sentence.

How each claim is recognised, in plain words:

- Words are matched whole, whatever their case: "cure" is found in "Ketamine
  cures pain" but not in "secure" or "curettage".
- "cure" and "guaranteed" are allowed when the sentence denies them, because
  then they are honest: "There is no cure for fibromyalgia", "ketamine is not a
  cure", "no treatment is guaranteed to work". A denial is one of the words in
  DENIALS at most two words before the claim ("not only" does not deny, and
  neither does "no" in "No other clinic can cure you").
- "FDA-approved" (also "FDA approved", "approved by the FDA", "FDA approval")
  is a claim only in a sentence about ketamine, esketamine or Spravato. It is
  allowed when the sentence denies it ("ketamine is not FDA-approved for
  fibromyalgia"), or when it names the drug with what it is approved for and
  none of the conditions in OFF_LABEL_CONDITIONS: ketamine as an anaesthetic,
  esketamine nasal spray (Spravato) for treatment-resistant depression.
- "100% effective" is allowed when denied ("no treatment is 100% effective").
- "no side effects" (also "without side effects", "free of side effects",
  "zero side effects") is always a claim.

To allow or refuse another phrase, change the lists below; the tests in
tests/pages/test_publish_checks.py show what each one catches.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    code: str
    pattern: re.Pattern
    message: str
    honest_when_denied: bool = False


def words(pattern):
    return re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)


CLAIMS = (
    Claim(
        "claim_cure",
        words(r"cure[sd]?|curing"),
        "Says ketamine therapy cures: no treatment for these conditions is known "
        "to cure them. Say what it may help with instead.",
        honest_when_denied=True,
    ),
    Claim(
        "claim_guaranteed",
        words(r"guarantee[sd]?"),
        "Promises a result: nobody can guarantee how a treatment works for one "
        "person. Say that results vary.",
        honest_when_denied=True,
    ),
    Claim(
        "claim_100_percent",
        re.compile(r"\b100\s?(?:%|per\s?cent\b)\s*effective\b", re.IGNORECASE),
        "Says the treatment is 100% effective: no treatment works for everyone.",
        honest_when_denied=True,
    ),
    Claim(
        "claim_no_side_effects",
        words(r"(?:no|zero|without(?: any)?|free of(?: any)?)\s+side[\s-]effects?"),
        "Says there are no side effects: ketamine has side effects (such as "
        "dizziness, nausea, feeling detached). Describe them instead.",
    ),
)

FDA_APPROVAL = words(r"FDA[\s-]approv\w*|approved by the (?:US |U\.S\. )?FDA")

FDA_APPROVAL_MESSAGE = (
    "Says ketamine is FDA-approved for something it is not approved for: ketamine "
    "is approved as an anaesthetic, and esketamine nasal spray (Spravato) for "
    "treatment-resistant depression. Say that other uses are off-label."
)

KETAMINE = words(r"ketamine|esketamine|spravato")

# What the FDA has approved, and the drug approved for it: a sentence naming the
# drug and its use (and no off-label condition) may say "FDA-approved".
APPROVED_USES = (
    (words(r"an(?:a)?esthe\w*|sedation"), words(r"ketamine")),
    (words(r"treatment[\s-]resistant depression"), words(r"esketamine|spravato")),
)

OFF_LABEL_CONDITIONS = words(
    r"fibromyalgia|(?:chronic )?pain|depression|depressive|anxiety|PTSD|"
    r"post[\s-]traumatic stress|OCD|obsessive[\s-]compulsive|bipolar|migraines?|"
    r"CRPS|complex regional pain syndrome|neuropathy|addiction|alcohol"
)

DENIALS = (
    "no",
    "not",
    "never",
    "nothing",
    "nor",
    "without",
    "cannot",
    "can[’']t",
    "isn[’']t",
    "aren[’']t",
    "doesn[’']t",
    "don[’']t",
    "won[’']t",
)

# A denial, then at most two words, then the claim: "no cure", "not a cure",
# "no treatment is guaranteed". Further away, it denies something else: "No
# other clinic can cure you" is a claim.
DENIED = re.compile(
    rf"\b(?:{'|'.join(DENIALS)})\b(?!\s+only\b)(?:\W+\w+){{0,2}}\W*$",
    re.IGNORECASE,
)


def is_denied(sentence, start):
    """Whether a denial comes at most two words before the claim at start."""
    return bool(DENIED.search(sentence[:start]))


def claims_in(sentence):
    """(code, message) of each unfounded claim the sentence makes."""
    found = []
    for claim in CLAIMS:
        match = next(
            (
                match
                for match in claim.pattern.finditer(sentence)
                if not (claim.honest_when_denied and is_denied(sentence, match.start()))
            ),
            None,
        )
        if match:
            found.append((claim.code, claim.message))
    if claims_off_label_approval(sentence):
        found.append(("claim_fda_approved", FDA_APPROVAL_MESSAGE))
    return found


def claims_off_label_approval(sentence):
    if not KETAMINE.search(sentence):
        return False
    approvals = [
        match
        for match in FDA_APPROVAL.finditer(sentence)
        if not is_denied(sentence, match.start())
    ]
    if not approvals:
        return False
    rest = sentence
    named_approved_use = False
    for use, drug in APPROVED_USES:
        if drug.search(sentence):
            rest, count = use.subn("", rest)
            named_approved_use = named_approved_use or count > 0
    return not named_approved_use or bool(OFF_LABEL_CONDITIONS.search(rest))
